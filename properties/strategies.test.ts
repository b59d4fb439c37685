/**
 * The strategies beyond plain DFS: BFS gives shortest counterexamples, PCT prints a guarantee
 * and finds the switch-side ordering bug, delay bounding deviates at most K times, swarm's
 * counterexamples replay with the budgets of the run that found them. Seeds are fixed.
 */
import { describe, expect, it } from 'vitest';
import { buildCounterexample, replay } from '../src/counterexample/counterexample.ts';
import { prepare } from '../src/explore/engine.ts';
import { findVariant } from '../src/kernel/index.ts';
import { findScenario } from '../src/scenario/index.ts';
import { checkVariant } from './helpers.ts';
import { search } from '../src/explore/check.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';

const BUG = 'linux-4.13-cr3-before-cpumask';
const modelOf = (variant: string, bounds = DEFAULT_BOUNDS) =>
  prepare({ variant: findVariant(variant)!, scenario: findScenario('switch-vs-flush')!, params: { cpus: 2 }, features: findVariant(variant)!.features, bounds });

describe('bfs', () => {
  it('finds a counterexample no longer than dfs does, and it replays', () => {
    const d = checkVariant(findVariant(BUG)!, 'switch-vs-flush', 2);
    const b = search(modelOf(BUG), { strategy: 'bfs', seed: 0 });
    expect(b.verdict).toBe('violated');
    const m = modelOf(BUG);
    const cb = buildCounterexample(m, { violation: b.violation!, tape: b.tape!, widths: b.widths!, strategy: 'bfs', seed: 0 });
    const cd = buildCounterexample(m, { violation: d.violation!, tape: d.tape!, widths: d.widths!, strategy: 'dfs', seed: 0 });
    expect(cb.stats!.steps).toBeLessThanOrEqual(cd.stats!.steps);
    expect(replay(cb, findVariant(BUG)!, true).kind).toBe('violated');
  });

  it('agrees with dfs on a fixed variant', () => {
    expect(search(modelOf('linux-4.13'), { strategy: 'bfs', seed: 0 }).verdict).toBe('holds');
  });
});

describe('pct (seed 3)', () => {
  it('finds the switch-side ordering bug at depth 3 and prints a guarantee that tightens with runs', () => {
    const r = search(modelOf(BUG), { strategy: 'pct', seed: 3, depth: 3, maxExecutions: 5000 });
    expect(r.verdict).toBe('violated');
    const a = search(modelOf('linux-4.13'), { strategy: 'pct', seed: 3, depth: 3, maxExecutions: 50 });
    const b = search(modelOf('linux-4.13'), { strategy: 'pct', seed: 3, depth: 3, maxExecutions: 200 });
    expect(a.verdict).toBe('no-violation');
    expect(a.guarantee!.perRun).toBeCloseTo(1 / (2 ** a.guarantee!.optional * a.guarantee!.actors * a.guarantee!.k ** 2), 12);
    expect(a.guarantee!.optional).toBe(2);
    expect(b.guarantee!.missBound).toBeLessThan(a.guarantee!.missBound);
  });
});

describe('delay bounding', () => {
  it('a run deviates from the default schedule at most K times', () => {
    let found = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = search(modelOf('linux-4.13-flush-no-mb'), { strategy: 'delay', seed, delays: 2, maxExecutions: 3000 });
      if (r.verdict !== 'violated') continue;
      found++;
      expect(r.tape!.filter((c) => c !== 0).length).toBeLessThanOrEqual(2);
    }
    expect(found, 'the bound was checked on at least one violating run').toBeGreaterThan(0);
    expect(search(modelOf('linux-4.13-flush-no-mb'), { strategy: 'delay', seed: 1, delays: 0, maxExecutions: 5 }).tape?.every((c) => c === 0) ?? true).toBe(true);
  });
});

describe('swarm (seed 1)', () => {
  it("records the bounds of the run that found the violation, and the tape replays under them", () => {
    const r = search(modelOf(BUG), { strategy: 'swarm', seed: 1, maxExecutions: 5000 });
    expect(r.verdict).toBe('violated');
    const m = modelOf(BUG, r.bounds);
    const ce = buildCounterexample(m, { violation: r.violation!, tape: r.tape!, widths: r.widths!, strategy: 'swarm', seed: 1 });
    expect(replay(ce, findVariant(BUG)!, true).kind).toBe('violated');
  });
});
