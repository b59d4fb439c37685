/**
 * Why a task's user memory was read through another mm's page tables (`access-through-own-mm`):
 * the CR3 write that installed the other mm's root, the scheduler's switches around it (a
 * task preempted between reading CR3 and writing it back, 5cf0791da5c1), the switch to the
 * owner's mm that reloaded nothing, and the access; or the NMI that came in the middle of a
 * switch and read user memory of current through the next mm (4012e77a903d).
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';
import { Facts } from './facts.ts';
import { useRow } from './stale-use.ts';
import { hexva } from './words.ts';
import { type Explanation, type Link, paragraph } from './types.ts';

export function explainOwnMm(trace: readonly TraceEvent[], v: Violation): Explanation {
  const f = new Facts(trace);
  const use = useRow(f, v);
  const c = v.cpu ?? f.ev(use).cpu;
  const links: Link[] = [];
  const cr3 = f.rows((d, ev, r) => d.k === 'cr3' && ev.cpu === c && r < use && d.root === v.pfn).at(-1);
  const scheds = f.rows((d, ev, r) => d.k === 'sched' && ev.cpu === c && r < use);
  const before = cr3 === undefined ? [] : scheds.filter((r) => r < cr3);
  const after = cr3 === undefined ? scheds : scheds.filter((r) => r > cr3);
  const switchText = (r: number): string => {
    const d = f.data(r);
    if (d?.k !== 'sched') return `the scheduler switched tasks at step ${f.step(r)}`;
    return `${d.from} ${d.exited ? 'exited' : 'was preempted'} and cpu${c} switched to ${d.to} at step ${f.step(r)}`;
  };
  for (const r of before) links.push({ text: switchText(r), row: r });
  if (cr3 !== undefined) {
    const e = f.ev(cr3);
    const read = before.length === 0 ? '' : `, a value read before the switch${before.length > 1 ? 'es' : ''} above`;
    links.push({ text: `cpu${c}'s ${e.fn} wrote CR3 := page table pfn ${v.pfn} at step ${e.step}${read}`, row: cr3 });
  }
  for (const r of after) links.push({ text: `${switchText(r)}; its switch_mm() found the next mm already loaded and wrote no CR3`, row: r });
  const nmi = f.rows((_d, ev, r) => ev.actor === 'nmi' && ev.cpu === c && r < use).at(-1);
  if (nmi !== undefined) {
    // A kernel read for current from the NMI handler (4012e77a903d).
    const cur = f.rows((d, ev, r) => d.k === 'store' && ev.cpu === c && d.at.is.kind === 'pcpu' && d.at.is.field === 'cur_mm' && r > nmi).at(0);
    const tail = cur === undefined ? '' : ` (context_switch makes the next task current only at step ${f.step(cur)})`;
    links.push({ text: `an NMI arrived at cpu${c} at step ${f.step(nmi)}, before current was the next task${tail}`, row: nmi });
    const ud = f.data(use);
    const via = ud?.k === 'access' ? `${ud.mmName}'s page tables (pfn ${v.pfn ?? '?'})` : `page table pfn ${v.pfn ?? '?'}`;
    links.push({ text: `its perf handler's ${f.ev(use).fn} read user ${hexva(v.va ?? 0)} of the interrupted task at step ${f.step(use)} through ${via}, not the task's own mm's (nothing checked that CR3 belongs to current)`, row: use });
    return { invariant: v.invariant, links, text: paragraph(links), races: [] };
  }
  const u = f.data(use);
  const tables = u?.k === 'access' ? `${u.mmName}'s page tables (pfn ${v.pfn ?? '?'})` : `page table pfn ${v.pfn ?? '?'}`;
  const last = scheds.at(-1);
  const ld = last === undefined ? undefined : f.data(last);
  const task = ld?.k === 'sched' ? ld.to : `a task of mm ${v.mm ?? '?'}`;
  links.push({ text: `cpu${c} ran ${task}'s user access of ${hexva(v.va ?? 0)} at step ${f.step(use)} through ${tables}, not its own mm's`, row: use });
  return { invariant: v.invariant, links, text: paragraph(links), races: [] };
}
