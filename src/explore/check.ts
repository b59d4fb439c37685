/**
 * One check: a model explored by one strategy until a violation, exhaustion, or a budget.
 * Every result names its strategy, bounds, seed and counts. A budget that runs out before an
 * exhaustive search completes gives "inconclusive", never "holds"; a randomized search that
 * finds nothing gives "no-violation" (it proves nothing; PCT prints its miss-probability bound).
 *
 * Strategies:
 * - `dfs`: stateful exhaustive DFS (fingerprints); `stateless` re-executes instead.
 * - `bfs`: stateful exhaustive BFS: the first violation is a shortest one.
 * - `dpor`: stateless source-DPOR with sleep sets (dpor.ts): exhaustive without state caching.
 * - `random`: uniform choice at every branch point.
 * - `pct`: PCT with depth `depth`.
 * - `delay`: randomized delay bounding with `delays` deviations from the default schedule.
 * - `swarm`: each run draws its own hardware budgets (walks, buffer depth) and actor weights.
 */
import seedrandom from 'seedrandom';
import type { Violation } from '../invariants/types.ts';
import { type Bounds, type Features } from '../machine/types.ts';
import { statefulBfs } from './bfs.ts';
import { DelayStrategy } from './delay.ts';
import { UserError } from '../errors.ts';
import { DfsStrategy } from './dfs.ts';
import { sourceDpor, tapeOf } from './dpor.ts';
import { type Model, prepare, runExecution, type CheckConfig } from './engine.ts';
import { PctStrategy, actorsFor, optionalActors } from './pct.ts';
import { RandomStrategy, SwarmStrategy } from './random.ts';
import { type StatefulOptions, statefulDfs, type StatefulResult } from './stateful.ts';
import { Budget, type Limits, type StopKind } from './budget.ts';
import type { BranchPoint, Strategy } from './strategy.ts';

export const STRATEGIES = ['dfs', 'bfs', 'dpor', 'random', 'pct', 'delay', 'swarm'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

export interface SearchOptions {
  readonly strategy: StrategyName;
  readonly seed: number;
  /** Executions budget (randomized strategies: the run count). */
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
  /** Stateful dfs/bfs: distinct-state budget (deterministic, unlike a deadline); exceeding it is inconclusive. */
  readonly maxStates?: number;
  /** Heap budget in MiB: reaching it ends the search as inconclusive (budget.ts). */
  readonly maxMemoryMb?: number;
  /** Stateful dfs: progress reports, see StatefulOptions.progress. */
  readonly progress?: StatefulOptions['progress'];
}

export type Verdict = 'holds' | 'violated' | 'inconclusive' | 'no-violation';

/** What a randomized run count guarantees (PCT only). */
export interface Guarantee {
  readonly depth: number;
  readonly actors: number;
  /** Walkers and evictors, each muted in a run with probability 1/2. */
  readonly optional: number;
  readonly k: number;
  /** Lower bound on the probability that one run finds a given depth-d bug. */
  readonly perRun: number;
  /** Upper bound on the probability that all runs missed it. */
  readonly missBound: number;
}

export interface CheckResult {
  readonly verdict: Verdict;
  readonly reason?: string;
  /** Which budget (or Ctrl-C) ended a search before it completed. */
  readonly stop?: StopKind;
  readonly violation?: Violation;
  readonly tape?: readonly number[];
  readonly widths?: readonly number[];
  readonly variant: string;
  readonly scenario: string;
  readonly cpus: number;
  readonly features: Features;
  /** The bounds of the search (swarm: of the run that found the violation). */
  readonly bounds: Bounds;
  readonly strategy: StrategyName;
  readonly seed: number;
  readonly executions: number;
  readonly steps: number;
  /** Stateful search only: distinct states and transitions, and the fingerprint-collision bound. */
  readonly states?: number;
  readonly transitions?: number;
  readonly collisionProbability?: number;
  /** Stateful DFS with partial-order reduction: moves not taken because asleep, and states where all were. */
  readonly sleepPruned?: number;
  /** Stateful DFS: states where every move was asleep; DPOR: sleep-set-blocked executions. */
  readonly sleepBlocked?: number;
  /** DPOR: races found, backtrack points added, and steps re-executed to reach them. */
  readonly races?: number;
  readonly backtracks?: number;
  readonly replayedSteps?: number;
  readonly guarantee?: Guarantee;
  /** Delay bounding: deviations per run. */
  readonly delays?: number;
  readonly elapsedMs: number;
}

export const DEFAULT_RANDOM_RUNS = 2000;

export function check(cfg: CheckConfig, opt: SearchOptions): CheckResult {
  return search(prepare(cfg), opt);
}

function baseOf(model: Model, opt: SearchOptions) {
  const cfg = model.cfg;
  return {
    variant: cfg.variant.id,
    scenario: cfg.scenario.id,
    cpus: cfg.params.cpus,
    features: cfg.features,
    bounds: cfg.bounds,
    strategy: opt.strategy,
    seed: opt.seed,
  };
}

export function search(model: Model, opt: SearchOptions): CheckResult {
  switch (opt.strategy) {
    case 'dfs':
      return opt.stateless ? searchStateless(model, opt) : searchStateful(model, opt, statefulDfs);
    case 'bfs':
      return searchStateful(model, opt, statefulBfs);
    case 'dpor':
      return searchDpor(model, opt);
    default:
      return searchRandomized(model, opt);
  }
}

/** An exhaustive search's verdict: a budget that ran out before it completed proves nothing. */
function exhaustiveVerdict(r: { readonly violation?: Violation; readonly complete: boolean }): Verdict {
  return r.violation ? 'violated' : r.complete ? 'holds' : 'inconclusive';
}

function searchStateful(
  model: Model,
  opt: SearchOptions,
  run: (m: Model, o: StatefulOptions) => StatefulResult,
): CheckResult {
  const t0 = Date.now();
  const r = run(model, {
    ...(opt.timeMs === undefined ? {} : { timeMs: opt.timeMs }),
    ...(opt.por === undefined ? {} : { por: opt.por }),
    ...(opt.maxStates === undefined ? {} : { maxStates: opt.maxStates }),
    ...(opt.maxMemoryMb === undefined ? {} : { maxMemoryMb: opt.maxMemoryMb }),
    ...(opt.progress === undefined ? {} : { progress: opt.progress }),
  });
  const verdict = exhaustiveVerdict(r);
  const res: CheckResult = {
    ...baseOf(model, opt),
    verdict,
    executions: r.executions,
    steps: r.transitions,
    states: r.states,
    transitions: r.transitions,
    collisionProbability: r.collisionProbability,
    sleepPruned: r.sleepPruned,
    sleepBlocked: r.sleepBlocked,
    elapsedMs: Date.now() - t0,
  };
  if (r.violation) return { ...res, violation: r.violation, tape: r.tape ?? [], widths: r.widths ?? [] };
  return stopped(res, r);
}

function searchDpor(model: Model, opt: SearchOptions): CheckResult {
  const t0 = Date.now();
  if (model.cfg.bounds.preemptions !== undefined) {
    throw new UserError('--strategy dpor takes no preemption bound (use dfs for bounded search)');
  }
  const r = sourceDpor(model, {
    ...(opt.timeMs === undefined ? {} : { timeMs: opt.timeMs }),
    ...(opt.maxExecutions === undefined ? {} : { maxExecutions: opt.maxExecutions }),
    ...(opt.maxMemoryMb === undefined ? {} : { maxMemoryMb: opt.maxMemoryMb }),
  });
  const verdict = exhaustiveVerdict(r);
  const res: CheckResult = {
    ...baseOf(model, opt),
    verdict,
    executions: r.executions,
    steps: r.steps,
    sleepBlocked: r.sleepBlocked,
    races: r.races,
    backtracks: r.backtracks,
    replayedSteps: r.replayedSteps,
    elapsedMs: Date.now() - t0,
  };
  if (r.violation) return { ...res, violation: r.violation, ...tapeOf(model, r.moves ?? []) };
  return stopped(res, r);
}

function searchStateless(model: Model, opt: SearchOptions): CheckResult {
  const t0 = Date.now();
  const dfs = new DfsStrategy(model.cfg.bounds.preemptions);
  const budget = new Budget(limitsOf(opt));
  let executions = 0;
  let steps = 0;
  const done = (verdict: Verdict, extra: Partial<CheckResult> = {}): CheckResult => ({
    ...baseOf(model, opt),
    verdict,
    executions,
    steps,
    elapsedMs: Date.now() - t0,
    ...extra,
  });
  for (;;) {
    const stop = (executions & 63) === 0 || executions === opt.maxExecutions ? budget.exceeded(0, executions) : undefined;
    if (stop) return done('inconclusive', { reason: stop.reason, stop: stop.kind });
    dfs.begin();
    const r = runExecution(model, dfs, { trace: false });
    executions++;
    steps += r.steps;
    if (r.violation) return done('violated', { violation: r.violation, tape: r.tape, widths: r.widths });
    if (!dfs.next()) return done('holds');
  }
}

/** The budgets of a search's options (the execution budget is each strategy's own). */
function limitsOf(opt: SearchOptions): Limits {
  return {
    ...(opt.timeMs === undefined ? {} : { timeMs: opt.timeMs }),
    ...(opt.maxStates === undefined ? {} : { maxStates: opt.maxStates }),
    ...(opt.maxMemoryMb === undefined ? {} : { maxMemoryMb: opt.maxMemoryMb }),
    ...(opt.maxExecutions === undefined ? {} : { maxExecutions: opt.maxExecutions }),
  };
}

/** An incomplete search's result says why it stopped. */
function stopped(res: CheckResult, r: { readonly reason?: string; readonly stop?: StopKind }): CheckResult {
  return { ...res, ...(r.reason === undefined ? {} : { reason: r.reason }), ...(r.stop === undefined ? {} : { stop: r.stop }) };
}

/** Steps and branch points of the default execution (all choices 0). */
function defaultRun(model: Model): { steps: number; branches: number } {
  const zero: Strategy = { begin() {}, choose: (_b: BranchPoint) => 0 };
  const r = runExecution(model, zero, { trace: false });
  return { steps: r.steps, branches: r.tape.length };
}

const SWARM_WALKS = [0, 1, 2, Number.POSITIVE_INFINITY];
const SWARM_SB = [1, 2, 3];

function searchRandomized(model: Model, opt: SearchOptions): CheckResult {
  const t0 = Date.now();
  const runs = opt.maxExecutions ?? DEFAULT_RANDOM_RUNS;
  const probe = defaultRun(model);
  let strategy: Strategy;
  let guarantee: Omit<Guarantee, 'missBound'> | undefined;
  const swarmRng = seedrandom(`swarm:${opt.seed}`);
  switch (opt.strategy) {
    case 'pct': {
      const depth = opt.depth ?? 3;
      const k = Math.max(2 * probe.steps, 4);
      const cpus = model.cfg.params.cpus;
      const pct = new PctStrategy(opt.seed, depth, actorsFor(cpus, model.cfg.features.invlpgb === true), k, optionalActors(cpus, model.cfg.bounds));
      strategy = pct;
      guarantee = { depth, actors: pct.actors.length, optional: pct.optional.length, k, perRun: pct.perRun };
      break;
    }
    case 'delay':
      strategy = new DelayStrategy(opt.seed, opt.delays ?? 2, Math.max(probe.branches * 2, 4));
      break;
    case 'swarm':
      strategy = new SwarmStrategy(opt.seed);
      break;
    default:
      strategy = new RandomStrategy(opt.seed);
  }
  const budget = new Budget({ ...limitsOf(opt), maxExecutions: runs });
  let executions = 0;
  let steps = 0;
  const finish = (verdict: Verdict, m: Model, extra: Partial<CheckResult> = {}): CheckResult => {
    const g = guarantee ? { guarantee: { ...guarantee, missBound: (1 - guarantee.perRun) ** executions } } : {};
    const d = opt.strategy === 'delay' ? { delays: opt.delays ?? 2 } : {};
    return { ...baseOf(m, opt), verdict, executions, steps, elapsedMs: Date.now() - t0, ...g, ...d, ...extra };
  };
  for (let i = 0; i < runs; i++) {
    const stop = (i & 63) === 0 ? budget.exceeded(0, i) : undefined;
    if (stop) return finish('no-violation', model, { reason: stop.reason, stop: stop.kind });
    let m = model;
    if (opt.strategy === 'swarm') {
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(swarmRng() * xs.length)]!;
      const bounds: Bounds = { ...model.cfg.bounds, walks: pick(SWARM_WALKS), sbDepth: pick(SWARM_SB) };
      m = prepare({ ...model.cfg, bounds }, model.makeMachine);
    }
    strategy.begin();
    const r = runExecution(m, strategy, { trace: false });
    executions++;
    steps += r.steps;
    if (r.violation) return finish('violated', m, { violation: r.violation, tape: r.tape, widths: r.widths });
  }
  return finish('no-violation', model);
}
