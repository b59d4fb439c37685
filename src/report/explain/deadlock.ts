/**
 * Why no CPU could move (`no-deadlock`): for each CPU, what it last did, whether its IRQs
 * were off (and since when), and which cross-call IPIs were sent to it and never taken, so
 * the wait cycle reads off the page: "cpu0 waits for cpu1's handler; cpu1 has IRQs off".
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';
import { Facts } from './facts.ts';
import { type Explanation, type Link, paragraph } from './types.ts';

export function explainDeadlock(trace: readonly TraceEvent[], v: Violation): Explanation {
  const f = new Facts(trace);
  const cpus = [...new Set(trace.map((e) => e.cpu))].sort((a, b) => a - b);
  const links: Link[] = [];
  for (const c of cpus) {
    const sent = f.rows((d, ev) => d.k === 'ipi-send' && ev.cpu === c);
    for (const s of sent) {
      const d = f.data(s);
      if (d?.k !== 'ipi-send') continue;
      const taken = f.rows((x, ev, r) => x.k === 'ipi-take' && ev.cpu === d.target && r > s && x.calls.some((k) => k.sender === c))[0];
      if (taken === undefined) {
        links.push({ text: `cpu${c} sent ${d.fn} to cpu${d.target} at step ${f.step(s)}, which cpu${d.target} never took`, row: s });
        continue;
      }
      const done = f.rows((x, ev, r) => x.k === 'iret' && ev.cpu === d.target && r > taken)[0];
      if (done === undefined) {
        links.push({ text: `cpu${c} sent ${d.fn} to cpu${d.target} at step ${f.step(s)}; cpu${d.target} took it at step ${f.step(taken)}, but its handler never returned`, row: taken });
      }
    }
  }
  for (const c of cpus) {
    const last = f.rows((d, ev) => ev.cpu === c && ev.actor !== 'ghost' && d.k !== 'end').at(-1);
    if (last === undefined) continue;
    // IRQs: off from a local_irq_disable or an IPI's entry until a local_irq_enable or an IRET.
    let offSince: number | undefined;
    f.rows((d, ev) => ev.cpu === c && (d.k === 'irq' || d.k === 'ipi-take' || d.k === 'iret')).forEach((r) => {
      const d = f.data(r)!;
      offSince = d.k === 'iret' || (d.k === 'irq' && d.on) ? undefined : (offSince ?? r);
    });
    const irq = offSince === undefined ? '' : ` with IRQs off since step ${f.step(offSince)} (${f.ev(offSince).fn || 'IPI entry'})`;
    links.push({ text: `cpu${c}'s last step was in ${f.ev(last).fn || (f.ev(last).actor === 'ipi' ? 'its IPI entry' : f.ev(last).actor)} at step ${f.step(last)}${irq}`, row: last });
  }
  links.push({ text: `no CPU can move at step ${v.step}: every unfinished CPU waits for another` });
  return { invariant: v.invariant, links, text: paragraph(links), races: [] };
}
