/**
 * Why an access reached a freed data page (`no-use-after-free-page`): which CPU's zap cleared
 * the PTE, whether a flush returned on that CPU between the clear and the free (none: the page
 * was freed before its TLB flush, the mmu_gather order broken), when the page was freed and
 * reused, and the stale TLB entry the access went through (filled at boot or by a walk).
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';
import { Facts } from './facts.ts';
import { type Explanation, type Link, paragraph } from './types.ts';
import { hexva } from './words.ts';

export function explainFreedPage(trace: readonly TraceEvent[], v: Violation): Explanation {
  const f = new Facts(trace);
  const use =
    f.rows((d, ev) => ev.step === v.step && (v.cpu === undefined || ev.cpu === v.cpu) && d.k === 'access').at(-1) ?? trace.length - 1;
  const V = v.cpu ?? f.ev(use).cpu;
  const pfn = v.pfn;
  const links: Link[] = [];
  const free = f.rows((d, _ev, r) => d.k === 'free-page' && d.pfn === pfn && r < use).at(-1);
  const reuse = f.rows((d, _ev, r) => d.k === 'reuse-page' && d.pfn === pfn && r < use).at(-1);
  const F = free === undefined ? undefined : f.ev(free).cpu;
  // The last change of the PTE the access translated, and the freer's own last PTE change.
  const vaTag = v.va === undefined ? undefined : `va 0x${v.va.toString(16)})`;
  const used = vaTag === undefined ? undefined : f.writes.filter((w) => w.at.is.kind === 'table' && w.at.name.startsWith('pte(') && w.at.name.endsWith(vaTag) && w.row < use).at(-1);
  const clear = F === undefined ? undefined : f.writes.filter((w) => w.cpu === F && w.at.is.kind === 'table' && w.row < free!).at(-1);
  const flushes = (cpu: number, from: number, to: number): number[] => f.rows((_d, ev, r) => ev.cpu === cpu && r > from && r < to && ev.fn === 'flush_tlb_mm_range');
  if (used) links.push({ text: `cpu${used.cpu}'s ${f.ev(used.row).fn} changed ${used.at.name} at step ${f.step(used.row)}`, row: used.row });
  if (clear && clear.row !== used?.row) links.push({ text: `cpu${clear.cpu}'s ${f.ev(clear.row).fn} cleared ${clear.at.name} at step ${f.step(clear.row)}`, row: clear.row });
  if (F !== undefined && free !== undefined) {
    if (flushes(F, clear?.row ?? 0, free).length === 0) links.push({ text: `cpu${F} freed pfn ${pfn ?? '?'} at step ${f.step(free)} before any TLB flush of the range`, row: free });
    else links.push({ text: `cpu${F} freed pfn ${pfn ?? '?'} at step ${f.step(free)}, after a flush that left cpu${V}'s entry${vaTag === undefined ? '' : ` for ${hexva(v.va!)}`} in place`, row: free });
    if (used && used.cpu !== F && flushes(used.cpu, used.row, free).length === 0) {
      links.push({ text: `cpu${used.cpu} had not flushed ${used.at.name} by then`, row: free });
    }
    if (reuse !== undefined) links.push({ text: `the allocator handed pfn ${pfn ?? '?'} out again at step ${f.step(reuse)}`, row: reuse });
  }
  const filled = v.filledAt === undefined || v.filledAt === 0 ? 'at boot' : `at step ${v.filledAt}`;
  const va = v.va === undefined ? '' : ` of ${hexva(v.va)}`;
  links.push({ text: `cpu${V}'s access${va} at step ${f.step(use)} went through its TLB entry to pfn ${pfn ?? '?'} (filled ${filled}), which nothing had flushed`, row: use });
  return { invariant: v.invariant, links, text: paragraph(links), races: [] };
}
