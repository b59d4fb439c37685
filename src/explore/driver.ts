/**
 * The one execution loop (after shuttle's runner and its schedulers): a strategy says whether
 * there is a next execution and under which model, then answers its branch points; the loop
 * runs it, counts, polls the budgets, and stops at the first violation. Stateless dfs, random,
 * PCT, delay bounding and swarm are strategies over it; cross-cutting rules such as a
 * preemption bound wrap a strategy (preemption-bound.ts) instead of living inside one.
 *
 * The stateful dfs and bfs and source-DPOR backtrack over saved states rather than whole
 * executions, so they keep their own loops (stateful.ts, bfs.ts, dpor.ts) and share the
 * budgets (budget.ts), the table of the bounds they honour (accepts.ts) and the result types
 * (result.ts).
 */
import type { Violation } from '../invariants/types.ts';
import { type Model, runExecution } from './engine.ts';
import type { Budget, Stop } from './budget.ts';
import type { Outcome } from './result.ts';
import type { Strategy } from './strategy.ts';

/** A strategy over the execution loop. */
export interface ExecutionStrategy extends Pick<Strategy, 'choose'> {
  /** Prepare the next execution and return its model; undefined when there is none left. */
  next(): Model | undefined;
}

export type DriveEnd =
  | { readonly kind: 'violated'; readonly violation: Violation; readonly tape: readonly number[]; readonly widths: readonly number[]; readonly model: Model }
  | { readonly kind: 'exhausted' }
  | { readonly kind: 'stopped'; readonly stop: Stop };

export interface DriveCounts {
  executions: number;
  steps: number;
}

/** Run executions of `strategy` until a violation, exhaustion, `maxExecutions` or a budget. */
export function drive(strategy: ExecutionStrategy, budget: Budget, counts: DriveCounts, maxExecutions?: number): DriveEnd {
  const choose = { begin(): void {}, choose: strategy.choose.bind(strategy) };
  for (;;) {
    // Exhaustion first: a search whose last execution meets the budget has still completed.
    const model = strategy.next();
    if (!model) return { kind: 'exhausted' };
    if (maxExecutions !== undefined && counts.executions >= maxExecutions) {
      return { kind: 'stopped', stop: { kind: 'executions', reason: `execution budget of ${maxExecutions} ran out` } };
    }
    const stop = (counts.executions & 63) === 0 ? budget.exceeded(0, counts.executions) : undefined;
    if (stop) return { kind: 'stopped', stop };
    const r = runExecution(model, choose, { trace: false });
    counts.executions++;
    counts.steps += r.steps;
    if (r.violation) return { kind: 'violated', violation: r.violation, tape: r.tape, widths: r.widths, model };
  }
}

/** A strategy that runs the same model every time (random, PCT, delay bounding). */
export function repeat(model: Model, s: Strategy): ExecutionStrategy {
  return { next: () => (s.begin(), model), choose: (b) => s.choose(b) };
}

/** An exhaustive re-execution search's outcome. */
export function statelessOutcome(end: DriveEnd): Outcome {
  switch (end.kind) {
    case 'violated':
      return { verdict: 'violated', violation: end.violation, tape: end.tape, widths: end.widths };
    case 'exhausted':
      return { verdict: 'holds' };
    case 'stopped':
      return { verdict: 'inconclusive', reason: end.stop.reason, stop: end.stop.kind };
  }
}

/** Running out of runs is how a randomized search ends; any other budget is said. */
export function randomizedOutcome(end: DriveEnd): Outcome {
  switch (end.kind) {
    case 'violated':
      return { verdict: 'violated', violation: end.violation, tape: end.tape, widths: end.widths };
    case 'exhausted':
      return { verdict: 'no-violation' };
    case 'stopped':
      return end.stop.kind === 'executions' ? { verdict: 'no-violation' } : { verdict: 'no-violation', reason: end.stop.reason, stop: end.stop.kind };
  }
}
