/**
 * The label of a trace event in a report: who acted (the CPU's program, or its hardware:
 * store-buffer drain, walker, eviction, IPI delivery) and what happened, with page-table
 * values as `pfn N` / `not present`. Built from the event's structured data; the recorded
 * text is the fallback for events without data (a file's recorded trace).
 */
import type { TraceEvent } from '../explore/sim.ts';
import { callName } from '../explore/event-data.ts';

export interface Label {
  /** `store-buffer drain`, `walker`, `evict`, `IPI delivery`; undefined for program steps. */
  readonly actor?: string;
  /** The kernel function, for program steps. */
  readonly fn?: string;
  readonly text: string;
}

const HARDWARE: Partial<Record<TraceEvent['actor'], string>> = {
  drain: 'store-buffer drain',
  bcast: 'INVLPGB arrival',
  walk: 'walker',
  evict: 'evict',
  ipi: 'IPI delivery',
};

export function label(ev: TraceEvent): Label {
  const d = ev.data;
  const actor = HARDWARE[ev.actor];
  if (actor !== undefined) {
    switch (d?.k) {
      case 'drain':
        return { actor, text: `${d.at.name} = ${d.val.shown} visible` };
      case 'walk': {
        const fills: string[] = [];
        if (d.pscLeaf !== undefined) fills.push(`PSC <- upper entry to pfn ${d.pscLeaf}`);
        if (d.tlb) fills.push(`TLB <- pfn ${d.tlb.pfn}`);
        const via = d.reads.some((r) => r.viaPsc) ? ' via cached upper entry' : '';
        return { actor, text: `speculative walk of va 0x${d.va.toString(16)}${via}: ${fills.length ? fills.join(', ') : 'fills nothing'}` };
      }
      case 'ipi-take':
        return { actor, text: `takes ${d.calls.map((c) => `${callName(c)} from cpu${c.sender}`).join(', ')}` };
      default:
        return { actor, text: ev.text };
    }
  }
  const fn = ev.actor === 'cpu' || ev.actor === 'irq' ? ev.fn : undefined;
  const withFn = (text: string): Label => (fn === undefined ? { text } : { fn, text });
  // Page-table values read as pfns; other program steps keep their recorded wording.
  if (d?.k === 'store' && d.at.is.kind === 'table') return withFn(`store ${d.at.name} := ${d.val.shown}${d.buffered ? ' (buffered)' : ''}`);
  if (d?.k === 'load' && d.at.is.kind === 'table') return withFn(`load ${d.at.name} = ${d.val.shown}`);
  return withFn(ev.text);
}
