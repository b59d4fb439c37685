/**
 * The "why" of a violation in the forms the CLI prints: one paragraph for text output, and
 * for `--json` the chain as data (each link with the step and CPU it is about, the races and
 * the IPI that was not sent, by step).
 */
import type { TraceEvent } from '../explore/sim.ts';
import type { Violation } from '../invariants/types.ts';
import { type Explanation, explain } from './explain/index.ts';

export function whyJson(x: Explanation, trace?: readonly TraceEvent[]): Record<string, unknown> {
  const at = (row: number | undefined): { step: number; cpu: number } | null => {
    const e = row === undefined ? undefined : trace?.[row];
    return e ? { step: e.step, cpu: e.cpu } : null;
  };
  return {
    invariant: x.invariant,
    text: x.text,
    links: x.links.map((l) => ({ text: l.text, at: at(l.row) })),
    races: x.races.map((r) => ({ read: at(r.read), write: at(r.write), kind: r.kind })),
    noIpi: x.noIpi ? { from: x.noIpi.from, to: x.noIpi.to, decidedAt: at(x.noIpi.row) } : null,
    staleEntry: x.stale ? { cpu: x.stale.cpu, filled: x.stale.fill === 'boot' ? 'boot' : at(x.stale.fill), used: at(x.stale.use) } : null,
  };
}

/** The why of a violated execution, from its trace (which must carry its structured data). */
export function whyOf(trace: readonly TraceEvent[], v: Violation): Explanation {
  return explain(trace, v);
}
