/**
 * A preemption bound as a wrapper around any strategy over the execution loop: once an
 * execution has taken `bound` non-default choices (choice 0 is "keep running the current CPU,
 * no speculative walk"), every later branch point takes the default. The same count as the
 * stateful dfs's bound (stateful.ts), so a tape found under it has at most `bound` non-zero
 * choices.
 */
import type { ExecutionStrategy } from './driver.ts';
import type { BranchPoint } from './strategy.ts';

export function preemptionBounded(inner: ExecutionStrategy, bound: number): ExecutionStrategy {
  let used = 0;
  return {
    next() {
      used = 0;
      return inner.next();
    },
    choose(b: BranchPoint): number {
      const c = inner.choose(b);
      if (c === 0 || used >= bound) return 0;
      used++;
      return c;
    },
  };
}
