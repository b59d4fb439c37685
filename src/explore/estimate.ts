/**
 * Knuth's estimator of the size of the execution tree that plain (stateless, unreduced) DFS
 * would explore: follow random paths and average the product of the branching widths along
 * each. Unbiased for the number of maximal executions; used to report how many executions the
 * reductions avoid, where plain DFS cannot finish.
 */
import { runExecution, type Model } from './engine.ts';
import { RandomStrategy } from './random.ts';

export interface TreeEstimate {
  readonly executions: number;
  readonly probes: number;
  readonly seed: number;
}

export function estimateTree(model: Model, probes: number, seed: number): TreeEstimate {
  const rng = new RandomStrategy(seed);
  let sum = 0;
  for (let i = 0; i < probes; i++) {
    const r = runExecution(model, rng, { trace: false });
    let w = 1;
    for (const x of r.widths) w *= x;
    sum += w;
  }
  return { executions: sum / probes, probes, seed };
}
