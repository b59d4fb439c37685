/**
 * The minimizer against the yardstick: on every bug variant in the repo, the minimized
 * counterexample is no longer than the shortest one an exhaustive breadth-first search finds,
 * plus one step; it keeps the same invariant violated; it never grows; and it drops CPUs the
 * violation does not need. New bug variants are covered as soon as they are merged.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCounterexample } from '../src/counterexample/counterexample.ts';
import { cli, fixture, tempDir } from './helpers.ts';
import { minimize } from '../src/counterexample/minimize.ts';
import { shortestViolation } from '../src/counterexample/shortest.ts';
import { driveTape } from '../src/counterexample/drive.ts';
import { search } from '../src/explore/check.ts';
import { prepare } from '../src/explore/engine.ts';
import { VARIANTS } from '../src/kernel/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import type { Variant } from '../src/kernel/variant.ts';

const modelFor = (v: Variant, scenario: string, cpus: number) =>
  prepare({ variant: v, scenario: findScenario(scenario)!, params: { cpus }, features: v.features, bounds: DEFAULT_BOUNDS });

const bugRows = VARIANTS.filter((v) => v.kind === 'bug').flatMap((v) =>
  v.expect.filter((e) => e.verdict === 'violated' && e.features === undefined && e.bounds === undefined).map((e) => ({ v, e })),
);

describe('minimizer vs the shortest counterexample (BFS)', () => {
  it('there is at least one bug variant to measure', () => expect(bugRows.length).toBeGreaterThan(0));

  const seen = new Set<string>();
  for (const { v, e } of bugRows) {
    const min = findScenario(e.scenario)!.cpus.min;
    if (seen.has(`${v.id}/${e.scenario}`)) continue;
    seen.add(`${v.id}/${e.scenario}`);
    for (const strategy of ['dfs', 'random'] as const) {
      it(`${v.id} on ${e.scenario} (cpus ${min}, found by ${strategy} seed 1): within one step of the shortest`, () => {
        const model = modelFor(v, e.scenario, min);
        const r = search(model, { strategy, seed: 1, maxExecutions: 3000 });
        if (r.verdict !== 'violated') {
          // Random search may miss a narrow window; exhaustive search must not.
          expect(strategy).toBe('random');
          return;
        }
        const m = minimize({ model }, r.tape!, r.violation!.invariant);
        expect(m.violation.invariant).toBe(r.violation!.invariant);
        // Never larger in the minimizer's lexicographic order (CPUs, ops, steps, preemptions):
        // a shorter execution may need one preemption more.
        const key = (x: typeof m.after) => [x.cpus, x.ops, x.steps, x.preemptions];
        const [a, b] = [key(m.after), key(m.before)];
        const i = a.findIndex((v, j) => v !== b[j]);
        expect(i === -1 || a[i]! < b[i]!, `${a} vs ${b}`).toBe(true);
        const s = shortestViolation(m.subject.model, r.violation!.invariant, { maxStates: 200_000 });
        expect(s, 'BFS finds a violation').toBeDefined();
        expect(m.after.steps).toBeLessThanOrEqual(s!.steps + 1);
        // The minimized tape replays to the same invariant.
        expect(driveTape(m.subject.model, m.tape).violation?.invariant).toBe(r.violation!.invariant);
      });
    }
  }

  // The test fixtures break the other invariants: the minimizer must shrink those too, from a
  // noisy 3-CPU random find down to the shortest 2-CPU execution.
  const FIXTURES: [string, string][] = [
    ['no-ipi', 'switch-vs-flush'],
    ['lazy-ignores-flush', 'lazy-free-pgtables'],
    ['lazy-clears-bit', 'lazy-flush'],
    ['invpcid-flush', 'switch-vs-flush-local'],
    ['handler-spins', 'switch-vs-flush'],
  ];
  for (const [name, scenario] of FIXTURES) {
    it(`fixture ${name} on ${scenario} (cpus 3, random seed 1): down to the shortest on 2 CPUs, within one step`, async () => {
      const v = await fixture(name);
      const model = modelFor(v, scenario, 3);
      const r = search(model, { strategy: 'random', seed: 1, maxExecutions: 3000 });
      expect(r.verdict).toBe('violated');
      const m = minimize({ model }, r.tape!, r.violation!.invariant);
      expect(m.after.cpus).toBe(2);
      const s = shortestViolation(m.subject.model, r.violation!.invariant, { maxStates: 200_000 });
      expect(m.after.steps).toBeLessThanOrEqual(s!.steps + 1);
    });
  }

  it('a noisy 3-CPU counterexample loses the CPU it does not need (linux-4.13-flush-no-mb, random seed 3)', () => {
    const v = VARIANTS.find((x) => x.id === 'linux-4.13-flush-no-mb')!;
    const model = modelFor(v, 'switch-vs-flush', 3);
    const r = search(model, { strategy: 'random', seed: 3 });
    expect(r.verdict).toBe('violated');
    const m = minimize({ model }, r.tape!, r.violation!.invariant);
    expect(m.before).toMatchObject({ cpus: 3 });
    expect(m.after).toMatchObject({ cpus: 2, preemptions: 0, walks: 0 });
    expect(m.after.steps).toBeLessThan(m.before.steps);
    expect(m.after.steps).toBeLessThanOrEqual(shortestViolation(m.subject.model, r.violation!.invariant)!.steps + 1);
  });
});

describe('tlbcheck minimize and check --no-minimize', () => {
  it('check minimizes by default: a 3-CPU random find is saved with 2 CPUs and the sizes are reported', async () => {
    const out = tempDir();
    const r = await cli('check', '--variant', 'linux-4.13-flush-no-mb', '--scenario', 'switch-vs-flush', '--cpus', '3', '--strategy', 'random', '--seed', '3', '--out', out, '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as { counterexample: string; minimized: { before: { cpus: number }; after: { cpus: number; preemptions: number } } };
    expect(j.minimized.before.cpus).toBe(3);
    expect(j.minimized.after).toMatchObject({ cpus: 2, preemptions: 0 });
    expect(loadCounterexample(j.counterexample).params.cpus).toBe(2);
  });

  it('--no-minimize saves the execution as found; minimize FILE then shrinks it next to it, leaving FILE alone', async () => {
    const out = tempDir();
    const r = await cli('check', '--variant', 'linux-4.13-flush-no-mb', '--scenario', 'switch-vs-flush', '--cpus', '3', '--strategy', 'random', '--seed', '3', '--out', out, '--no-minimize', '--json');
    const j = JSON.parse(r.out) as { counterexample: string; minimized?: unknown };
    expect(j.minimized).toBeUndefined();
    const original = readFileSync(j.counterexample, 'utf8');
    expect(loadCounterexample(j.counterexample).params.cpus).toBe(3);
    const m = await cli('minimize', j.counterexample);
    expect(m.code).toBe(0);
    // As short as the stored counterexample, which is the BFS-shortest one.
    const shortest = loadCounterexample(join(import.meta.dirname, '..', 'counterexamples', 'linux-4.13-flush-no-mb--switch-vs-flush-c2--no-stale-tlb-use.json')).stats?.steps;
    expect(m.out).toMatch(new RegExp(`minimized: steps \\d+ -> ${shortest}, preemptions \\d+ -> 0, walks \\d+ -> 0, cpus 3 -> 2`));
    const saved = /counterexample: (\S+)/.exec(m.out)![1]!;
    expect(saved).not.toBe(j.counterexample);
    expect(readFileSync(j.counterexample, 'utf8')).toBe(original);
    expect((await cli('replay', saved)).code).toBe(1);
  });

  it('minimize of a file that is not a counterexample is a one-line error', async () => {
    const f = join(tempDir(), 'x.json');
    writeFileSync(f, '{"schema":"other/9"}');
    const r = await cli('minimize', f);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
