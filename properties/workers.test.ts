/**
 * `check --workers N`: one stateful dfs over worker threads sharing its visited table gives the
 * same verdict as one worker, on holds rows and violated rows, and a violation found by a
 * worker (its tape = frontier path + the worker's tape) replays. In-process, the workers' share
 * (runShare) finds the violation from the frontier, and a broken rule (frontier states claimed
 * in the table before the workers start) loses it: the claim protocol is what the verdict rests
 * on.
 *
 * The shared table grows while threads use it: two threads racing for the same states through
 * many growths claim each exactly once and lose none (shown to fail with the old segments not
 * probed, and, in most runs, with the growth lock not kept), and a search whose table starts at
 * 16 slots stores exactly the states of one thread. The coordinating thread's own error ends
 * the search with that error and stops the threads it started (shown to fail without the stop).
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { prepare, runExecution } from '../src/explore/engine.ts';
import { ReplayStrategy } from '../src/explore/replay.ts';
import { type ShareData, frontierOf, parallelDfs, runShare, walkPath } from '../src/explore/parallel.ts';
import { GROW_AT, SharedVisited, type SharedVisitedData, makeSharedVisited } from '../src/explore/shared-visited.ts';
import { findVariant } from '../src/kernel/index.ts';
import { statefulDfs } from '../src/explore/stateful.ts';
import { configOf } from '../src/cli/options.ts';
import { Machine } from '../src/machine/machine.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { UserError } from '../src/errors.ts';
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

describe('the shared table grows while threads use it', () => {
  const inserter = new URL('./fixtures/workers/table-inserter.mjs', import.meta.url);
  const hashOf = (k: number): Uint32Array => Uint32Array.of(k >>> 8, Math.imul(k, 2654435761) >>> 0);

  /** Two threads claim the states 0..n-1 in each table at once (the same order, so they race for every one). */
  const race = async (tables: SharedVisitedData[], n: number, sets: boolean) => {
    const go = new SharedArrayBuffer(4 * tables.length);
    const run = () =>
      new Promise<{ mine: number[]; wrong: number }[]>((resolve, reject) => {
        const w = new Worker(inserter, { workerData: { tables, n, go, sets } });
        w.once('message', (m: { mine: number[]; wrong: number }[]) => {
          resolve(m);
          void w.terminate();
        });
        w.once('error', reject);
      });
    const [a, b] = await Promise.all([run(), run()]);
    return tables.map((data, r) => ({ t: new SharedVisited(data), a: a[r]!, b: b[r]! }));
  };

  it('two threads claiming the same 20000 states from a 16-slot start: each claimed exactly once, none lost, every sleep set kept', async () => {
    const n = 20000;
    const { t, a, b } = (await race([makeSharedVisited(1 << 28, 16)], n, true))[0]!;
    expect(a.wrong + b.wrong).toBe(0);
    expect(a.mine.length + b.mine.length).toBe(n);
    expect(new Set([...a.mine, ...b.mine]).size).toBe(n);
    expect(t.size).toBe(n);
    // 16 slots doubled to hold 20000 at half load: 13 segments; the sleep-set index grew too.
    expect(t.segments).toBeGreaterThanOrEqual(12);
    for (let k = 0; k < n; k++) {
      const s = t.claim(hashOf(k));
      expect(s).toBeGreaterThanOrEqual(0);
      expect(t.movesOf(t.read(s))).toEqual([k % 3000]);
    }
    expect(t.size).toBe(n);
  });

  it('the same race over 100 tables of 3000 states (900 growths under two threads)', async () => {
    // Without sleep sets the threads keep closer step. A growth that let a thread in (no lock)
    // failed this one (a segment overfull) in most runs.
    const n = 3000;
    const rounds = await race(Array.from({ length: 100 }, () => makeSharedVisited(1 << 28, 16)), n, false);
    for (const { t, a, b } of rounds) {
      expect(a.wrong + b.wrong).toBe(0);
      expect(new Set([...a.mine, ...b.mine]).size).toBe(n);
      expect(a.mine.length + b.mine.length).toBe(n);
      expect(t.size).toBe(n);
      for (let k = 0; k < n; k += 97) expect(t.claim(hashOf(k))).toBeGreaterThanOrEqual(0);
    }
  });

  it('a growth the memory budget refuses: the table is full at GROW_AT, and keeps what it holds', () => {
    // A budget below this thread's heap refuses the first growth.
    const t = new SharedVisited(makeSharedVisited(1 << 20, 64));
    let k = 0;
    while (!t.full) expect(t.testAndSet(hashOf(k++))).toBe(true);
    expect(t.segments).toBe(1);
    expect(t.size).toBe(Math.floor(64 * GROW_AT));
    // The free half still takes the states met before the search stops.
    for (let j = 0; j < 8; j++) expect(t.testAndSet(hashOf(k++))).toBe(true);
    for (let j = 0; j < k; j++) expect(t.testAndSet(hashOf(j))).toBe(false);
    // A budget that allows it grows instead.
    const big = new SharedVisited(makeSharedVisited(1 << 30, 64));
    for (let j = 0; j < 200; j++) big.testAndSet(hashOf(j));
    expect(big.full).toBe(false);
    expect(big.segments).toBe(4);
  });

  const searchWorker = new URL('../bin/search-worker.js', import.meta.url);
  const rows: [string, string, number][] = [
    ['linux-4.13', 'switch-vs-flush', 3],
    ['linux-6.18', 'spin-scaled', 3],
  ];
  for (const [variant, scenario, cpus] of rows) {
    it(`${variant} on ${scenario} (cpus ${cpus}), 2 workers from a 16-slot table: the states of one thread, exactly (without deferral)`, async () => {
      const recipe = { variant, scenario, cpus, workers: 1 };
      const model = prepare(configOf(findVariant(variant)!, recipe));
      // Without deferral, whose choice of moves can depend on the order states are first met.
      const one = statefulDfs(model, { defer: false });
      expect(one.complete).toBe(true);
      const two = await parallelDfs(model, 2, searchWorker, recipe, { defer: false }, [], 16);
      expect(two.complete).toBe(true);
      expect(two.violation).toBeUndefined();
      expect(two.segments).toBeGreaterThanOrEqual(8);
      // A growth that lost a state stores fewer; one that claimed a state twice counts it twice.
      expect(two.states).toBe(one.states);
      // With deferral (the default), the workers' frontier and searches leave moves out too.
      const deferred = await parallelDfs(model, 2, searchWorker, recipe, {}, [], 16);
      expect(deferred.complete).toBe(true);
      expect(deferred.deferred).toBeGreaterThan(0);
      expect(deferred.states).toBeLessThan(one.states);
    });
  }

  it('a violated row from a 16-slot table: the violation of one thread', async () => {
    const variant = 'linux-4.13-cr3-before-cpumask';
    const recipe = { variant, scenario: 'switch-vs-flush', cpus: 3, workers: 1 };
    const model = prepare(configOf(findVariant(variant)!, recipe));
    const two = await parallelDfs(model, 2, searchWorker, recipe, {}, [], 16);
    expect(two.violation?.invariant).toBe('no-stale-tlb-use');
    const replay = new ReplayStrategy(two.tape!, two.widths!);
    replay.begin();
    expect(runExecution(model, replay, { trace: false }).violation?.invariant).toBe('no-stale-tlb-use');
  });
});

describe("the coordinating thread's error", () => {
  it('is the search\'s error, and the threads it started are stopped', async () => {
    const variant = 'linux-4.13';
    const recipe = { variant, scenario: 'switch-vs-flush', cpus: 3, workers: 1 };
    const base = prepare(configOf(findVariant(variant)!, recipe));
    // Stand-in workers that count until they are stopped and never answer.
    const alive = new SharedArrayBuffer(4);
    const cell = new Int32Array(alive);
    const spinner = new URL('./fixtures/workers/spinner.mjs', import.meta.url);
    // The first machine builds the frontier; the coordinator's share then fails on its first
    // state, once the other thread runs.
    let machines = 0;
    const model = {
      ...base,
      makeMachine: (init: ConstructorParameters<typeof Machine>[0]) => {
        if (++machines > 1) {
          Atomics.wait(cell, 0, 0, 20_000);
          throw new UserError('the coordinator failed');
        }
        return new Machine(init);
      },
    };
    // The error itself (a UserError is the CLI's one-line error), not a worker's or a hang.
    const e = await parallelDfs(model, 2, spinner, { alive }, {}, []).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toBe('the coordinator failed');
    expect(Atomics.load(cell, 0)).toBeGreaterThan(0);
    const then = Atomics.load(cell, 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(Atomics.load(cell, 0)).toBe(then);
  });
});
