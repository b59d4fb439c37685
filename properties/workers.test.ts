/**
 * `check --workers N`: one stateful dfs over worker threads sharing its visited table gives the
 * same verdict as one worker, on holds rows and violated rows, and a violation found by a
 * worker (its tape = frontier path + the worker's tape) replays. In-process, the workers' share
 * (runShare) finds the violation from the frontier, and a broken rule (frontier states claimed
 * in the table before the workers start) loses it: the claim protocol is what the verdict rests
 * on.
 */
import { describe, expect, it } from 'vitest';
import { prepare, runExecution } from '../src/explore/engine.ts';
import { ReplayStrategy } from '../src/explore/replay.ts';
import { type ShareData, frontierOf, runShare, walkPath } from '../src/explore/parallel.ts';
import { SharedVisited, makeSharedVisited } from '../src/explore/shared-visited.ts';
import { findVariant } from '../src/kernel/index.ts';
import { statefulDfs } from '../src/explore/stateful.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { cli, tempDir } from './helpers.ts';

const verdictOf = async (variant: string, scenario: string, cpus: number, workers: number, out: string) => {
  const r = await cli('check', '--variant', variant, '--scenario', scenario, '--cpus', String(cpus), '--workers', String(workers), '--out', out, '--json');
  return { code: r.code, j: JSON.parse(r.out) as { verdict: string; invariant: string | null; counterexample: string | null; store: { kind: string } } };
};

describe('--workers 2 gives the verdict of one worker', () => {
  const rows: [string, string, number][] = [
    ['linux-4.13', 'switch-vs-flush', 3],
    ['linux-4.13-cr3-before-cpumask', 'switch-vs-flush', 3],
    ['linux-6.18-lazy-skip-freed', 'lazy-free-pgtables', 3],
  ];
  for (const [variant, scenario, cpus] of rows) {
    it(`${variant} on ${scenario} (cpus ${cpus})`, async () => {
      const out = tempDir();
      const one = await verdictOf(variant, scenario, cpus, 1, out);
      const two = await verdictOf(variant, scenario, cpus, 2, out);
      expect(two.j.store.kind).toBe('shared');
      expect(two.code).toBe(one.code);
      expect(two.j.verdict).toBe(one.j.verdict);
      expect(two.j.invariant).toBe(one.j.invariant);
      if (two.j.counterexample) {
        const r = await cli('replay', two.j.counterexample);
        expect(r.code).toBe(1);
      }
    });
  }

  it('refuses another strategy in one line', async () => {
    const r = await cli('check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--strategy', 'bfs', '--workers', '2');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('tlbcheck: --workers splits the stateful dfs only (not --stateless, --bitstate or another strategy)');
  });
});

describe("the workers' share, in process", () => {
  const model = prepare({
    variant: findVariant('linux-4.13-cr3-before-cpumask')!,
    scenario: findScenario('switch-vs-flush')!,
    params: { cpus: 3 },
    features: findVariant('linux-4.13-cr3-before-cpumask')!.features,
    bounds: DEFAULT_BOUNDS,
  });
  const setUp = (brokenClaim: boolean) => {
    const table = makeSharedVisited(1 << 22);
    const t = new SharedVisited(table);
    const f = frontierOf(model, t, 16);
    expect(f.found).toBeUndefined();
    expect(f.frontier.length).toBeGreaterThanOrEqual(16);
    if (brokenClaim) {
      const h = new Uint32Array(2);
      for (const n of f.frontier) {
        walkPath(model, n.path).sim.fingerprint(0, h);
        t.testAndSet(h);
      }
    }
    const share: ShareData = { recipe: null, table, frontier: f.frontier, control: new SharedArrayBuffer(8), beat: undefined, limits: {} };
    return share;
  };

  it('finds the violation, with a tape that replays to it', () => {
    const share = setUp(false);
    const a = runShare(model, share);
    const b = runShare(model, share);
    const found = [a, b].find((r) => r.type === 'done' && r.violation);
    if (found?.type !== 'done' || !found.violation) throw new Error('no violation found');
    expect(found.violation.violation.invariant).toBe('no-stale-tlb-use');
    const replay = new ReplayStrategy(found.violation.tape, found.violation.widths);
    replay.begin();
    expect(runExecution(model, replay, { trace: false }).violation?.invariant).toBe('no-stale-tlb-use');
    expect(replay.unused).toBe(0);
  });

  it('a broken claim (frontier states marked before the workers start) loses it', () => {
    const share = setUp(true);
    const a = runShare(model, share);
    expect(a.type === 'done' && a.violation).toBeFalsy();
  });
});

describe('the shared table keeps sleep sets', () => {
  const model = prepare({
    variant: findVariant('linux-4.13')!,
    scenario: findScenario('switch-vs-flush')!,
    params: { cpus: 3 },
    features: findVariant('linux-4.13')!.features,
    bounds: DEFAULT_BOUNDS,
  });

  it('a revisit explores only the moves that woke up, so the shared search stores about the states of one thread', () => {
    const one = statefulDfs(model, {});
    expect(one.complete).toBe(true);
    const table = makeSharedVisited(1 << 22);
    const t = new SharedVisited(table);
    const f = frontierOf(model, t, 16);
    const share: ShareData = { recipe: null, table, frontier: f.frontier, control: new SharedArrayBuffer(8), beat: undefined, limits: {} };
    const r = runShare(model, share);
    expect(r.type === 'done' && !r.violation && !r.stopped).toBe(true);
    // Marking (state, sleep set) pairs instead stored 1.5-1.8x the states on these rows.
    expect(t.size).toBeLessThanOrEqual(Math.ceil(one.states * 1.1));
    expect(t.size).toBeGreaterThanOrEqual(Math.floor(one.states * 0.9));
  });

  it('claim, store, read and replace; a full arena reads back as unknown', () => {
    const data = makeSharedVisited(1 << 16);
    const t = new SharedVisited(data);
    const h = Uint32Array.of(7, 9);
    const s = t.claim(h);
    expect(s).toBeLessThan(0);
    t.store(~s, [5, 3]);
    const slot = t.claim(h);
    expect(slot).toBe(~s);
    const v = t.read(slot);
    expect(t.movesOf(v)).toEqual([3, 5]);
    // A set met again is the same record.
    const again = t.claim(Uint32Array.of(8, 9));
    t.store(~again, [3, 5]);
    expect(t.read(~again)).toBe(v);
    expect(t.replace(slot, v + 1, [3])).toBe(false);
    expect(t.replace(slot, v, [3])).toBe(true);
    expect(t.movesOf(t.read(slot))).toEqual([3]);
    expect(t.replace(slot, t.read(slot), [])).toBe(true);
    expect(t.movesOf(t.read(slot))).toEqual([]);
    // Fill the arena: a set that does not fit is stored as unknown.
    const big = Array.from({ length: data.arena.maxByteLength / 4 }, (_, i) => i);
    const s2 = t.claim(Uint32Array.of(1, 2));
    t.store(~s2, big);
    expect(t.movesOf(t.read(~s2))).toBeUndefined();
    expect(t.testAndSet(Uint32Array.of(3, 4))).toBe(true);
    expect(t.testAndSet(Uint32Array.of(3, 4))).toBe(false);
  });
});
