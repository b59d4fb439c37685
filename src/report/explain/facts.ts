/**
 * Facts every explainer reads off a trace's structured data (explore/event-data.ts), never off
 * its text: when each buffered store became visible (the store buffer is FIFO, so the events
 * that shrink it make its oldest entries visible), every read and write of memory, and the
 * reads that missed a write of another CPU:
 * - `buffered`: the write was issued before the read but still sat in its CPU's store buffer;
 * - `later`: the write was issued only after the read (nothing ordered it before).
 */
import type { EventData, LocRef, Val } from '../../explore/event-data.ts';
import type { TraceEvent } from '../../explore/sim.ts';

export interface Write {
  readonly row: number;
  readonly cpu: number;
  readonly at: LocRef;
  readonly val: Val;
  /** Row at which other CPUs could see it; Infinity: never within the trace. */
  readonly visible: number;
  readonly buffered: boolean;
  /** `store pte(mmA, va 0x1000) := pfn 5`, `lock bts mmA.cpumask`. */
  readonly what: string;
}

export interface Read {
  readonly row: number;
  readonly cpu: number;
  readonly at: LocRef;
  readonly val: Val;
  /** The bits of the word the code kept (cpumask_test_cpu), when not all. */
  readonly bits?: number;
}

export interface Miss {
  readonly read: Read;
  readonly write: Write;
  readonly kind: 'buffered' | 'later';
}

export class Facts {
  readonly writes: Write[] = [];
  readonly reads: Read[] = [];

  constructor(readonly trace: readonly TraceEvent[]) {
    const queues = new Map<number, { row: number; at: LocRef; val: Val }[]>();
    const sb = new Map<number, number>();
    const visibleAt = new Map<number, number>();
    trace.forEach((ev, row) => {
      const d = ev.data;
      if (!d) return;
      const q = queues.get(ev.cpu) ?? [];
      queues.set(ev.cpu, q);
      const before = sb.get(ev.cpu) ?? 0;
      const entered = d.k === 'store' && d.buffered ? 1 : 0;
      // Entries that left the buffer at this event became visible here, oldest first.
      for (let n = before + entered - d.sb; n > 0 && q.length > 0; n--) visibleAt.set(q.shift()!.row, row);
      if (entered) q.push({ row, at: (d as Extract<EventData, { k: 'store' }>).at, val: (d as Extract<EventData, { k: 'store' }>).val });
      sb.set(ev.cpu, d.sb);
    });
    trace.forEach((ev, row) => {
      const d = ev.data;
      if (!d) return;
      switch (d.k) {
        case 'store':
          this.writes.push({
            row,
            cpu: ev.cpu,
            at: d.at,
            val: d.val,
            buffered: d.buffered,
            visible: d.buffered ? (visibleAt.get(row) ?? Infinity) : row,
            what: `store ${d.at.name} := ${d.val.shown}`,
          });
          break;
        case 'rmw':
          this.reads.push({ row, cpu: ev.cpu, at: d.at, val: d.old });
          this.writes.push({ row, cpu: ev.cpu, at: d.at, val: d.old, buffered: false, visible: row, what: `lock ${d.op} ${d.at.name}` });
          break;
        case 'load':
          this.reads.push(d.bits === undefined ? { row, cpu: ev.cpu, at: d.at, val: d.val } : { row, cpu: ev.cpu, at: d.at, val: d.val, bits: d.bits });
          break;
        case 'wait':
          this.reads.push({ row, cpu: ev.cpu, at: d.at, val: d.val });
          break;
      }
    });
  }

  ev(row: number): TraceEvent {
    const e = this.trace[row];
    if (!e) throw new Error(`[tlbcheck bug] no trace row ${row}`);
    return e;
  }

  data(row: number): EventData | undefined {
    return this.trace[row]?.data;
  }

  step(row: number): number {
    return this.ev(row).step;
  }

  /** Rows whose data satisfies `p`, in trace order. */
  rows(p: (d: EventData, ev: TraceEvent, row: number) => boolean): number[] {
    const out: number[] = [];
    this.trace.forEach((ev, row) => {
      if (ev.data && p(ev.data, ev, row)) out.push(row);
    });
    return out;
  }

  /** The writes of other CPUs that `r` did not see, restricted to those issued before row `until`. */
  missed(r: Read, until: number, by?: number): Miss[] {
    const out: Miss[] = [];
    for (const w of this.writes) {
      if (w.cpu === r.cpu || w.at.loc !== r.at.loc || w.row >= until) continue;
      if (by !== undefined && w.cpu !== by) continue;
      if (w.row < r.row && w.visible > r.row) out.push({ read: r, write: w, kind: 'buffered' });
      else if (w.row > r.row) out.push({ read: r, write: w, kind: 'later' });
    }
    // The first later write is the one the read needed; the rest add nothing.
    const firstLater = out.find((m) => m.kind === 'later');
    return out.filter((m) => m.kind === 'buffered' || m === firstLater);
  }

  /** The write a read returned: the latest write to its location visible to it (its own CPU's buffered ones included). */
  source(r: Read): Write | undefined {
    let best: Write | undefined;
    for (const w of this.writes) {
      if (w.at.loc !== r.at.loc || w.row >= r.row) continue;
      if (w.cpu !== r.cpu && w.visible > r.row) continue;
      best = w;
    }
    return best;
  }
}
