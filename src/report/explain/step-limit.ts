/**
 * Why an execution ran out of steps (`step-limit`): the read a CPU repeated most often near
 * the end, with the value it kept seeing, which is the spin loop that never ended; or, when
 * nothing repeats, that the execution is simply longer than the step budget.
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';
import { Facts } from './facts.ts';
import { type Explanation, type Link, paragraph } from './types.ts';

export function explainStepLimit(trace: readonly TraceEvent[], v: Violation): Explanation {
  const f = new Facts(trace);
  const tail = f.reads.filter((r) => r.row >= trace.length / 2);
  const counts = new Map<string, typeof tail>();
  for (const r of tail) {
    const k = `${r.cpu}:${r.at.loc}`;
    counts.set(k, [...(counts.get(k) ?? []), r]);
  }
  const spin = [...counts.values()].sort((a, b) => b.length - a.length)[0];
  const links: Link[] = [];
  if (spin && spin.length >= 3) {
    const first = spin[0]!;
    const last = spin.at(-1)!;
    const vals = [...new Set(spin.map((r) => r.val.shown))];
    links.push({
      text: `cpu${first.cpu}'s ${f.ev(first.row).fn} read ${first.at.name} ${spin.length} times between steps ${f.step(first.row)} and ${f.step(last.row)} (${vals.length === 1 ? `always ${vals[0]}` : `values ${vals.join(', ')}`})`,
      row: last.row,
    });
    links.push({ text: `it spins waiting for a write that does not come within the budget of ${v.step} steps` });
  } else {
    const by = new Map<number, number>();
    for (const e of trace) by.set(e.cpu, (by.get(e.cpu) ?? 0) + 1);
    links.push({ text: `no CPU repeats a read: the execution is longer than the budget of ${v.step} steps (${[...by].map(([c, n]) => `cpu${c} ${n} events`).join(', ')})` });
  }
  return { invariant: v.invariant, links, text: paragraph(links), races: [] };
}
