/**
 * The timeline of a counterexample, as data both renderers share (HTML page and terminal
 * columns): one row per trace event, placed in a lane of its CPU (program, store buffer,
 * walker, IPI); arrows from an IPI's sending step to its delivery and from a buffered store
 * to the step that makes it visible (a drain, or a serializing or LOCK'd instruction of the
 * same CPU); the stale TLB/PSC entry from its fill to its bad use; the violated invariant in
 * words. Pure: derived from the trace text the engine records.
 */
import type { TraceEvent } from '../explore/sim.ts';
import { INVARIANTS } from '../invariants/index.ts';
import type { Violation } from '../invariants/types.ts';

export type Lane = 'program' | 'sb' | 'walker' | 'ipi';
export const LANES: readonly Lane[] = ['program', 'sb', 'walker', 'ipi'];
export const LANE_TITLE: Record<Lane, string> = { program: 'program', sb: 'store buffer', walker: 'walker', ipi: 'IPI' };

export interface Row {
  readonly ev: TraceEvent;
  readonly lane: Lane;
  /** A checker note (a flush returned), not a hardware or program step. */
  readonly note: boolean;
}

export interface Arrow {
  readonly kind: 'ipi' | 'store';
  readonly from: number;
  readonly to: number;
  readonly label: string;
}

export interface Timeline {
  readonly cpus: number;
  readonly rows: readonly Row[];
  readonly arrows: readonly Arrow[];
  /** Rows of buffered stores that never became visible to other CPUs. */
  readonly unseen: readonly number[];
  /** Rows of the stale entry's fill and of its bad use. */
  readonly stale?: { readonly cpu: number; readonly fill: number; readonly use: number };
  readonly violation?: { readonly invariant: string; readonly words: string; readonly message: string; readonly row: number };
}

const LANE_OF: Record<TraceEvent['actor'], Lane> = {
  cpu: 'program',
  irq: 'program',
  ghost: 'program',
  end: 'program',
  drain: 'sb',
  walk: 'walker',
  evict: 'walker',
  ipi: 'ipi',
};

/** Program steps that drain the store buffer first (machine.ts: mfence, LOCK, serializing, the LOCKed llist_add of a cross-call). */
const DRAINS = /^(smp_mb|lock |mov cr3|invlpg|invpcid|iret|wrmsr|cr4|queue )/;

export function buildTimeline(trace: readonly TraceEvent[], cpus: number, violation?: Violation): Timeline {
  const rows: Row[] = trace.map((ev) => ({ ev, lane: LANE_OF[ev.actor], note: ev.actor === 'ghost' || ev.actor === 'end' }));
  const arrows: Arrow[] = [];
  const buffered: number[][] = Array.from({ length: cpus }, () => []);
  const queued: { row: number; fn: string }[][] = Array.from({ length: cpus }, () => []);
  rows.forEach((r, i) => {
    const { ev } = r;
    const sb = buffered[ev.cpu];
    if (!sb) return;
    if (ev.actor === 'cpu' || ev.actor === 'irq') {
      if (ev.text.endsWith('(buffered)')) sb.push(i);
      else if (DRAINS.test(ev.text)) {
        for (const s of sb.splice(0)) arrows.push({ kind: 'store', from: s, to: i, label: `visible: drained by ${ev.text.split(/[ :]/)[0]}` });
      }
      const ipi = /^queue (.+) on cpu(\d+) \+ IPI/.exec(ev.text);
      if (ipi) queued[Number(ipi[2])]?.push({ row: i, fn: ipi[1]! });
    } else if (ev.actor === 'drain') {
      const s = sb.shift();
      if (s !== undefined) arrows.push({ kind: 'store', from: s, to: i, label: 'visible' });
    } else if (ev.actor === 'ipi') {
      for (const q of queued[ev.cpu]?.splice(0) ?? []) arrows.push({ kind: 'ipi', from: q.row, to: i, label: q.fn });
    }
  });
  const unseen = buffered.flat().sort((a, b) => a - b);
  if (!violation) return { cpus, rows, arrows, unseen };
  let use = -1;
  rows.forEach((r, i) => {
    if (!r.note && r.ev.step === violation.step && (violation.cpu === undefined || r.ev.cpu === violation.cpu)) use = i;
  });
  if (use < 0) use = rows.length - 1;
  const words = INVARIANTS.find((x) => x.id === violation.invariant)?.title ?? violation.invariant;
  const v = { invariant: violation.invariant, words, message: violation.message, row: use };
  const cpu = violation.cpu;
  if (violation.filledAt === undefined || cpu === undefined) return { cpus, rows, arrows, unseen, violation: v };
  const fill = rows.findIndex((r) => !r.note && r.ev.cpu === cpu && r.ev.step === violation.filledAt);
  return { cpus, rows, arrows, unseen, violation: v, ...(fill >= 0 ? { stale: { cpu, fill, use } } : {}) };
}

/** The terminal trace with the timeline's extra facts written into each step. */
export function annotate(tl: Timeline): TraceEvent[] {
  const extra = tl.rows.map(() => [] as string[]);
  for (const a of tl.arrows) {
    const from = tl.rows[a.from]!.ev;
    extra[a.to]!.push(a.kind === 'ipi' ? `<- IPI sent at step ${from.step} by cpu${from.cpu}` : `<- store of step ${from.step} ${a.label}`);
  }
  for (const u of tl.unseen) extra[u]!.push('(still in the store buffer at the end: never visible)');
  if (tl.stale) {
    extra[tl.stale.fill]!.push('<== STALE ENTRY FILLED HERE');
    if (tl.stale.use !== tl.stale.fill) extra[tl.stale.use]!.push(`<== STALE ENTRY (filled at step ${tl.rows[tl.stale.fill]!.ev.step}) USED`);
  }
  if (tl.violation) extra[tl.violation.row]!.push(`!! VIOLATION ${tl.violation.invariant}`);
  return tl.rows.map((r, i) => (extra[i]!.length ? { ...r.ev, text: `${r.ev.text} ${extra[i]!.join(' ')}` } : r.ev));
}
