/**
 * One check: a model explored by one strategy until a violation, exhaustion, or a budget.
 * Every result names its strategy, bounds, seed and counts (result.ts: a discriminated union
 * per verdict and per search). A budget that runs out before an exhaustive search completes
 * gives "inconclusive", never "holds"; a randomized search that finds nothing gives
 * "no-violation" (it proves nothing; PCT prints its miss-probability bound); a bitstate search
 * is never "holds". Each strategy refuses, in one line, a bound it does not honour (accepts.ts).
 *
 * Strategies:
 * - `dfs`: stateful exhaustive DFS (fingerprints); `stateless` re-executes instead.
 * - `bfs`: stateful exhaustive BFS: the first violation is a shortest one.
 * - `dpor`: stateless source-DPOR with sleep sets (dpor.ts): exhaustive without state caching.
 * - `random`: uniform choice at every branch point.
 * - `pct`: PCT with depth `depth`.
 * - `delay`: randomized delay bounding with `delays` deviations from the default schedule.
 * - `swarm`: each member draws its own hardware budgets (walks, buffer depth) and actor weights.
 * The last four and stateless dfs are strategies over one execution loop (driver.ts).
 */
import { UserError } from '../errors.ts';
import { type Knob, type SearchKind, refuseUnsupported } from './accepts.ts';
import { statefulBfs } from './bfs.ts';
import { Budget, type Limits } from './budget.ts';
import { DelayStrategy } from './delay.ts';
import { DfsStrategy } from './dfs.ts';
import { sourceDpor, tapeOf } from './dpor.ts';
import { type DriveCounts, type ExecutionStrategy, drive, randomizedOutcome, repeat, statelessOutcome } from './driver.ts';
import { type Model, prepare, runExecution, type CheckConfig } from './engine.ts';
import type { ParallelResult } from './parallel.ts';
import { PctStrategy, actorsFor, optionalActors } from './pct.ts';
import { preemptionBounded } from './preemption-bound.ts';
import { RandomStrategy } from './random.ts';
import type { CheckResult, Common, Guarantee, Outcome, StrategyName, SwarmSlice } from './result.ts';
import { type StatefulOptions, statefulDfs, type StatefulResult } from './stateful.ts';
import type { BranchPoint, Strategy } from './strategy.ts';
import { Swarm, shardMembers } from './swarm.ts';

export { STRATEGIES, type CheckResult, type Guarantee, type StrategyName, type Verdict } from './result.ts';

export interface SearchOptions {
  readonly strategy: StrategyName;
  readonly seed: number;
  /** Executions budget (randomized strategies: the run count; swarm: the members of the whole swarm). */
  readonly maxExecutions?: number;
  /** Wall-clock deadline in milliseconds. */
  readonly timeMs?: number;
  /** Exhaustive DFS by re-execution, without state caching. */
  readonly stateless?: boolean;
  /** PCT bug depth (default 3). */
  readonly depth?: number;
  /** Delay-bounding: deviations from the default schedule per run (default 2). */
  readonly delays?: number;
  /** Sleep-set partial-order reduction in the stateful DFS (default on). */
  readonly por?: boolean;
  /** Stateful dfs with sleep sets: leave out walks and drains no other move conflicts with (default on; stateful.ts). */
  readonly defer?: boolean;
  /** Stateful dfs/bfs: distinct-state budget (deterministic, unlike a deadline); exceeding it is inconclusive. */
  readonly maxStates?: number;
  /** Heap budget in MiB: reaching it ends the search as inconclusive (budget.ts). */
  readonly maxMemoryMb?: number;
  /** Stateful dfs/bfs: bitstate (supertrace) visited set of 2^bitstate bits instead of 64-bit hashes. */
  readonly bitstate?: number;
  /** Swarm: run only shard `index` (1-based) of `count` disjoint slices of the members. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Stateful dfs: progress reports, see StatefulOptions.progress. */
  readonly progress?: StatefulOptions['progress'];
}

export const DEFAULT_RANDOM_RUNS = 2000;
export const DEFAULT_PCT_DEPTH = 3;
export const DEFAULT_DELAYS = 2;

export function check(cfg: CheckConfig, opt: SearchOptions): CheckResult {
  return search(prepare(cfg), opt);
}

/** The bounds and knobs a search was given, for the table of what each honours. */
function knobsOf(model: Model, opt: SearchOptions): Knob[] {
  const k: Knob[] = [];
  if (opt.maxExecutions !== undefined) k.push('maxExecutions');
  if (opt.timeMs !== undefined) k.push('timeMs');
  if (opt.maxMemoryMb !== undefined) k.push('maxMemoryMb');
  if (opt.maxStates !== undefined) k.push('maxStates');
  if (model.cfg.bounds.preemptions !== undefined) k.push('preemptions');
  if (opt.por === true) k.push('por');
  if (opt.por === false) k.push('noPor');
  if (opt.defer === false) k.push('noDefer');
  if (opt.bitstate !== undefined) k.push('bitstate');
  if (opt.depth !== undefined) k.push('depth');
  if (opt.delays !== undefined) k.push('delays');
  if (opt.shard !== undefined) k.push('shard');
  return k;
}

/** The search `opt` asks for, after refusing (one line) any bound it does not honour. */
export function validateSearch(model: Model, opt: SearchOptions): SearchKind {
  if (opt.stateless && opt.strategy !== 'dfs') throw new UserError('--stateless goes with --strategy dfs');
  const kind: SearchKind = opt.strategy === 'dfs' && opt.stateless ? 'dfs-stateless' : opt.strategy;
  refuseUnsupported(kind, knobsOf(model, opt));
  return kind;
}

export function search(model: Model, opt: SearchOptions): CheckResult {
  const kind = validateSearch(model, opt);
  switch (kind) {
    case 'dfs':
      return searchStateful(model, opt, 'dfs');
    case 'bfs':
      return searchStateful(model, opt, 'bfs');
    case 'dpor':
      return searchDpor(model, opt);
    default:
      return searchExecutions(model, opt, kind);
  }
}

function common(model: Model, opt: SearchOptions, t0: number, executions: number, steps: number): Common {
  const cfg = model.cfg;
  return {
    variant: cfg.variant.id,
    scenario: cfg.scenario.id,
    cpus: cfg.params.cpus,
    features: cfg.features,
    bounds: cfg.bounds,
    seed: opt.seed,
    executions,
    steps,
    elapsedMs: Date.now() - t0,
  };
}

/** An exhaustive search's outcome: a budget that ran out before it completed proves nothing. */
function exhaustiveOutcome(r: {
  readonly violation?: Outcome['violation'];
  readonly tape?: readonly number[];
  readonly widths?: readonly number[];
  readonly complete: boolean;
  readonly reason?: string;
  readonly stop?: Outcome['stop'];
}): Outcome {
  if (r.violation) return { verdict: 'violated', violation: r.violation, tape: r.tape ?? [], widths: r.widths ?? [] };
  if (r.complete) return { verdict: 'holds' };
  return { verdict: 'inconclusive', reason: r.reason ?? '?', ...(r.stop === undefined ? {} : { stop: r.stop }) };
}

function searchStateful(model: Model, opt: SearchOptions, strategy: 'dfs' | 'bfs'): CheckResult {
  const t0 = Date.now();
  const run: (m: Model, o: StatefulOptions) => StatefulResult = strategy === 'dfs' ? statefulDfs : statefulBfs;
  const r = run(model, {
    ...limitsOf(opt),
    ...(opt.por === undefined ? {} : { por: opt.por }),
    ...(opt.defer === undefined ? {} : { defer: opt.defer }),
    ...(opt.progress === undefined ? {} : { progress: opt.progress }),
    ...(opt.bitstate === undefined ? {} : { store: { kind: 'bitstate', log2bits: opt.bitstate } }),
  });
  let outcome = exhaustiveOutcome(r);
  // Bitstate may have lost states to full bits: a search that ran to its end proves nothing.
  if (outcome.verdict === 'holds' && r.store.kind === 'bitstate') outcome = { verdict: 'inconclusive', reason: bitstateReason(r.store.coverage) };
  return {
    ...common(model, opt, t0, r.executions, r.transitions),
    ...outcome,
    search: 'stateful',
    strategy,
    states: r.states,
    transitions: r.transitions,
    collisionProbability: r.collisionProbability,
    store: r.store,
    sleepPruned: r.sleepPruned,
    sleepBlocked: r.sleepBlocked,
    deferred: r.deferred,
  };
}

/** The result of a stateful dfs split over worker threads (parallel.ts). */
export function parallelCheckResult(model: Model, opt: SearchOptions, t0: number, r: ParallelResult, workers: number): CheckResult {
  return {
    ...common(model, opt, t0, r.executions, r.transitions),
    ...exhaustiveOutcome(r),
    search: 'stateful',
    strategy: 'dfs',
    states: r.states,
    transitions: r.transitions,
    collisionProbability: r.collisionProbability,
    store: { kind: 'shared', bytes: r.bytes, workers },
    sleepPruned: r.sleepPruned,
    sleepBlocked: r.sleepBlocked,
    deferred: r.deferred,
  };
}

/** The reason of a bitstate search that ran to its end without a violation. */
export const bitstateReason = (coverage: number): string => `no violation found (bitstate, coverage ~${percent(coverage)})`;

const percent = (x: number): string => `${(x * 100).toFixed(x > 0.999 && x < 1 ? 3 : 1)}%`;

function searchDpor(model: Model, opt: SearchOptions): CheckResult {
  const t0 = Date.now();
  const r = sourceDpor(model, limitsOf(opt));
  const outcome = r.violation ? { ...exhaustiveOutcome({ ...r, complete: false }), ...tapeOf(model, r.moves ?? []) } : exhaustiveOutcome(r);
  return {
    ...common(model, opt, t0, r.executions, r.steps),
    ...(outcome as Outcome),
    search: 'dpor',
    strategy: 'dpor',
    sleepBlocked: r.sleepBlocked,
    races: r.races,
    backtracks: r.backtracks,
    replayedSteps: r.replayedSteps,
  };
}

/** The budgets of a search's options (the execution budget is passed to the loop itself). */
function limitsOf(opt: SearchOptions): Limits & { maxExecutions?: number } {
  return {
    ...(opt.timeMs === undefined ? {} : { timeMs: opt.timeMs }),
    ...(opt.maxStates === undefined ? {} : { maxStates: opt.maxStates }),
    ...(opt.maxMemoryMb === undefined ? {} : { maxMemoryMb: opt.maxMemoryMb }),
    ...(opt.maxExecutions === undefined ? {} : { maxExecutions: opt.maxExecutions }),
  };
}

/** Steps and branch points of the default execution (all choices 0). */
function defaultRun(model: Model): { steps: number; branches: number } {
  const zero: Strategy = { begin() {}, choose: (_b: BranchPoint) => 0 };
  const r = runExecution(model, zero, { trace: false });
  return { steps: r.steps, branches: r.tape.length };
}

/** Stateless dfs and the randomized strategies: one execution loop (driver.ts). */
function searchExecutions(model: Model, opt: SearchOptions, kind: 'dfs-stateless' | 'random' | 'pct' | 'delay' | 'swarm'): CheckResult {
  const t0 = Date.now();
  const bound = model.cfg.bounds.preemptions;
  const counts: DriveCounts = { executions: 0, steps: 0 };
  const { maxExecutions, ...limits } = limitsOf(opt);
  const budget = new Budget(limits);
  const runs = maxExecutions ?? DEFAULT_RANDOM_RUNS;
  let strategy: ExecutionStrategy;
  let guarantee: Omit<Guarantee, 'missBound'> | undefined;
  let swarm: Swarm | undefined;
  switch (kind) {
    case 'dfs-stateless': {
      const dfs = new DfsStrategy(bound);
      let started = false;
      strategy = {
        next: () => {
          if (started && !dfs.next()) return undefined;
          started = true;
          dfs.begin();
          return model;
        },
        choose: (b) => dfs.choose(b),
      };
      break;
    }
    case 'pct': {
      const depth = opt.depth ?? DEFAULT_PCT_DEPTH;
      const k = Math.max(2 * defaultRun(model).steps, 4);
      const cpus = model.cfg.params.cpus;
      const pct = new PctStrategy(opt.seed, depth, actorsFor(cpus, model.cfg.features.invlpgb === true), k, optionalActors(cpus, model.cfg.bounds));
      strategy = repeat(model, pct);
      guarantee = { depth, actors: pct.actors.length, optional: pct.optional.length, k, perRun: pct.perRun };
      break;
    }
    case 'delay':
      strategy = repeat(model, new DelayStrategy(opt.seed, opt.delays ?? DEFAULT_DELAYS, Math.max(defaultRun(model).branches * 2, 4)));
      break;
    case 'swarm': {
      const slice = opt.shard ? shardMembers(runs, opt.shard.index, opt.shard.count) : { first: 0, end: runs };
      swarm = new Swarm(model, opt.seed, slice.first, slice.end);
      strategy = swarm;
      break;
    }
    default:
      strategy = repeat(model, new RandomStrategy(opt.seed));
  }
  // A preemption bound wraps the randomized strategies; stateless dfs prunes its tree itself.
  if (bound !== undefined && kind !== 'dfs-stateless') strategy = preemptionBounded(strategy, bound);
  const end = drive(strategy, budget, counts, kind === 'dfs-stateless' ? maxExecutions : swarm ? undefined : runs);
  const outcome = kind === 'dfs-stateless' ? statelessOutcome(end) : randomizedOutcome(end);
  const found = end.kind === 'violated' ? end.model : model;
  const base = { ...common(found, opt, t0, counts.executions, counts.steps), ...outcome, search: 'randomized' as const };
  switch (kind) {
    case 'dfs-stateless':
      return { ...common(found, opt, t0, counts.executions, counts.steps), ...outcome, search: 'stateless', strategy: 'dfs' };
    case 'pct':
      return { ...base, strategy: 'pct', guarantee: { ...guarantee!, missBound: (1 - guarantee!.perRun) ** counts.executions } };
    case 'delay':
      return { ...base, strategy: 'delay', delays: opt.delays ?? DEFAULT_DELAYS };
    case 'swarm': {
      const s: SwarmSlice = { shard: opt.shard ?? null, first: swarm!.first, end: swarm!.first + counts.executions, total: runs };
      return { ...base, strategy: 'swarm', swarm: s };
    }
    default:
      return { ...base, strategy: 'random' };
  }
}
