/**
 * Why an access went through a dead mm's TLB entry (`no-dead-mm-translation`): where the
 * entry was filled and for which mm, whether that mm's teardown flush (exit_mmap) returned
 * while the entry's CPU was out of its reach, when the mm was freed and which mm was then
 * allocated at its address, and the CR3 write that kept the entry's ASID (NOFLUSH) for it.
 * Read from the trace's structured data (mm-life, flush-return, cr3, access events).
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';
import { Facts } from './facts.ts';
import { type Explanation, type Link, paragraph } from './types.ts';
import { hexva } from './words.ts';

export function explainDeadMm(trace: readonly TraceEvent[], v: Violation): Explanation {
  const f = new Facts(trace);
  const use = f.rows((d, ev) => ev.step === v.step && (v.cpu === undefined || ev.cpu === v.cpu) && d.k === 'access').at(-1) ?? trace.length - 1;
  const V = v.cpu ?? f.ev(use).cpu;
  const links: Link[] = [];
  const filled = v.filledAt === undefined || v.filledAt === 0 ? undefined : v.filledAt;
  const fill = filled === undefined ? undefined : f.rows((d, ev) => ev.step === filled && ev.cpu === V && (d.k === 'access' || d.k === 'walk')).at(0);
  const va = v.va === undefined ? 'the address' : hexva(v.va);
  const lives = f.rows((d, _ev, r) => d.k === 'mm-life' && d.mm === v.mm && r < use);
  const freed = lives.find((r) => { const d = f.ev(r).data; return d?.k === 'mm-life' && !d.alive; });
  const born = lives.filter((r) => { const d = f.ev(r).data; return d?.k === 'mm-life' && d.alive; }).at(-1);
  const nameOf = (r: number | undefined): string => {
    const d = r === undefined ? undefined : f.ev(r).data;
    return d?.k === 'mm-life' ? d.mmName : `mm${v.mm ?? '?'}`;
  };
  const dead = nameOf(freed);
  links.push({
    text: `cpu${V} cached the translation of ${va} for ${dead} ${filled === undefined ? 'at boot' : `at step ${filled}`}`,
    ...(fill === undefined ? {} : { row: fill }),
  });
  // The dead mm's last flush (exit_mmap's), and whether it reached the entry's CPU.
  const flush = f.rows((d, _ev, r) => d.k === 'flush-return' && d.mm === v.mm && r < (freed ?? use)).at(-1);
  if (flush !== undefined) {
    const F = f.ev(flush).cpu;
    const cr3s = f.rows((d, ev, r) => d.k === 'cr3' && ev.cpu === V && r > (fill ?? 0) && r < flush);
    const left = cr3s.at(-1);
    links.push({
      text:
        `cpu${F}'s flush of ${dead} (its teardown) returned at step ${f.step(flush)}` +
        (left === undefined ? '' : `, after cpu${V} had switched away from it (step ${f.step(left)}), so it did not reach cpu${V}'s cached ASID`),
      row: flush,
    });
  }
  if (freed !== undefined) links.push({ text: `cpu${f.ev(freed).cpu} freed ${dead}'s mm_struct at step ${f.step(freed)}`, row: freed });
  if (born !== undefined && born !== freed) {
    const now = nameOf(born);
    links.push({ text: `cpu${f.ev(born).cpu} allocated ${now} at the same address at step ${f.step(born)}${now === dead ? '' : ` (a new mm with the old one's pointer)`}`, row: born });
  }
  const load = f.rows((d, ev, r) => d.k === 'cr3' && ev.cpu === V && r < use).at(-1);
  if (load !== undefined) {
    const d = f.ev(load).data;
    const noflush = d?.k === 'cr3' && d.noflush;
    links.push({
      text: `cpu${V}'s ${f.ev(load).fn} loaded CR3 at step ${f.step(load)}${d?.k === 'cr3' ? ` with pcid ${d.pcid}` : ''}${noflush ? ' and NOFLUSH: it took the dead mm\'s ASID slot as current' : ''}`,
      row: load,
    });
  }
  links.push({ text: `cpu${V}'s access of ${va} at step ${f.step(use)} used that entry (pfn ${v.pfn ?? '?'}), a translation of ${dead}`, row: use });
  return { invariant: v.invariant, links, text: paragraph(links), races: [] };
}
