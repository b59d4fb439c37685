/**
 * The explainers, one per invariant: each turns a violated execution's trace into its causal
 * chain (types.ts). `explain` picks the invariant's explainer; an invariant without one (a
 * user's own) gets the generic account of where it broke.
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';
import { explainAssertion } from './assertion.ts';
import { explainCpuFault } from './cpu-fault.ts';
import { explainDeadlock } from './deadlock.ts';
import { explainDeclared } from './declared.ts';
import { explainDeadMm } from './dead-mm.ts';
import { explainFreedTable } from './freed-table.ts';
import { explainFreedPage } from './freed-page.ts';
import { explainOwnMm } from './own-mm.ts';
import { explainPerMmState } from './per-mm-state.ts';
import { explainStaleUse } from './stale-use.ts';
import { explainStepLimit } from './step-limit.ts';
import { type Explainer, type Explanation, paragraph } from './types.ts';

export const EXPLAINERS: Readonly<Record<string, Explainer>> = {
  'no-stale-tlb-use': explainStaleUse,
  'no-stale-kernel-translation': explainStaleUse,
  'no-walk-through-freed-table': explainFreedTable,
  'no-use-after-free-page': explainFreedPage,
  'per-mm-state-coherent': explainPerMmState,
  'kernel-assertion': explainAssertion,
  'no-cpu-fault': explainCpuFault,
  'no-deadlock': explainDeadlock,
  'step-limit': explainStepLimit,
  'access-through-own-mm': explainOwnMm,
  'no-dead-mm-translation': explainDeadMm,
};

function generic(trace: readonly TraceEvent[], v: Violation): Explanation {
  let row = -1;
  trace.forEach((e, i) => {
    if (e.step === v.step && (v.cpu === undefined || e.cpu === v.cpu)) row = i;
  });
  const e = trace[row];
  const links = [{ text: `${v.invariant} broke at step ${v.step}${e ? ` on cpu${e.cpu} in ${e.fn || e.actor}` : ''}`, ...(row >= 0 ? { row } : {}) }];
  return { invariant: v.invariant, links, text: paragraph(links), races: [] };
}

export function explain(trace: readonly TraceEvent[], v: Violation): Explanation {
  return (EXPLAINERS[v.invariant] ?? (v.declared ? explainDeclared : generic))(trace, v);
}

export type { Explanation, Link, Race } from './types.ts';
