/**
 * GenMC-style estimate of the size of a search, from random probes: Knuth's estimator. A probe
 * runs one execution with uniformly random choices; the product of the branching widths along
 * its path is an unbiased estimate of the number of leaves (executions) of the full,
 * uncached execution tree. The mean over probes is the estimate. The stateful search visits
 * far fewer executions than the tree has (it merges equal states), so this is an upper scale
 * for the work, shown in the progress line, never used for a verdict. Seeded (seedrandom).
 */
import { RandomStrategy } from './random.ts';
import { runExecution, type Model } from './engine.ts';

export interface TreeEstimate {
  /** Estimated executions of the uncached tree (mean of the probes' width products). */
  readonly executions: number;
  /** Mean branch points per execution. */
  readonly depth: number;
  readonly probes: number;
  readonly seed: number;
}

export function estimateTree(model: Model, probes: number, seed: number): TreeEstimate {
  const strategy = new RandomStrategy(seed);
  let sum = 0;
  let depth = 0;
  for (let i = 0; i < probes; i++) {
    strategy.begin();
    const r = runExecution(model, strategy, { trace: false });
    let prod = 1;
    for (const w of r.widths) prod *= w;
    sum += prod;
    depth += r.widths.length;
  }
  return { executions: sum / Math.max(probes, 1), depth: depth / Math.max(probes, 1), probes, seed };
}
