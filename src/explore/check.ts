/**
 * One check: a model explored by one strategy until a violation, exhaustion, or a budget.
 * Every result names its strategy, bounds, seed and counts. A budget that runs out before an
 * exhaustive search completes gives "inconclusive", never "holds"; a random search that finds
 * nothing gives "no-violation" (it proves nothing).
 */
import { type Bounds, type Features } from '../machine/types.ts';
import type { Violation } from '../invariants/types.ts';
import { DfsStrategy } from './dfs.ts';
import { type CheckConfig, type Model, prepare, runExecution } from './engine.ts';
import { RandomStrategy } from './random.ts';
import { type StatefulOptions, statefulDfs } from './stateful.ts';
import type { Strategy } from './strategy.ts';

export type StrategyName = 'dfs' | 'random';

export interface SearchOptions {
  readonly strategy: StrategyName;
  readonly seed: number;
  /** Executions budget (random: the run count). */
  readonly maxExecutions?: number;
  /** Wall-clock deadline in milliseconds. */
  readonly timeMs?: number;
  /** Exhaustive search by re-execution, without state caching. */
  readonly stateless?: boolean;
  /** Stateful dfs: distinct-state budget (deterministic, unlike a deadline); exceeding it is inconclusive. */
  readonly maxStates?: number;
  /** Stateful dfs: progress reports, see StatefulOptions.progress. */
  readonly progress?: StatefulOptions['progress'];
}

export type Verdict = 'holds' | 'violated' | 'inconclusive' | 'no-violation';

export interface CheckResult {
  readonly verdict: Verdict;
  readonly reason?: string;
  readonly violation?: Violation;
  readonly tape?: readonly number[];
  readonly widths?: readonly number[];
  readonly variant: string;
  readonly scenario: string;
  readonly cpus: number;
  readonly features: Features;
  readonly bounds: Bounds;
  readonly strategy: StrategyName;
  readonly seed: number;
  readonly executions: number;
  readonly steps: number;
  /** Stateful search only: distinct states and transitions, and the fingerprint-collision bound. */
  readonly states?: number;
  readonly transitions?: number;
  readonly collisionProbability?: number;
  readonly elapsedMs: number;
}

export const DEFAULT_RANDOM_RUNS = 2000;

export function check(cfg: CheckConfig, opt: SearchOptions): CheckResult {
  return search(prepare(cfg), opt);
}

export function search(model: Model, opt: SearchOptions): CheckResult {
  if (opt.strategy === 'dfs' && !opt.stateless) return searchStateful(model, opt);
  const t0 = Date.now();
  const cfg = model.cfg;
  const dfs = opt.strategy === 'dfs' ? new DfsStrategy(cfg.bounds.preemptions) : undefined;
  const strategy: Strategy = dfs ?? new RandomStrategy(opt.seed);
  const maxExec = opt.maxExecutions ?? (dfs ? Number.POSITIVE_INFINITY : DEFAULT_RANDOM_RUNS);
  let executions = 0;
  let steps = 0;
  const base = baseOf(model, opt);
  const done = (verdict: Verdict, extra: Partial<CheckResult> = {}): CheckResult => ({
    ...base,
    verdict,
    executions,
    steps,
    elapsedMs: Date.now() - t0,
    ...extra,
  });
  for (;;) {
    if (executions >= maxExec) {
      return dfs ? done('inconclusive', { reason: `execution budget of ${maxExec} ran out` }) : done('no-violation');
    }
    if (opt.timeMs !== undefined && (executions & 63) === 0 && Date.now() - t0 > opt.timeMs) {
      return dfs
        ? done('inconclusive', { reason: `time budget of ${opt.timeMs / 1000} s ran out` })
        : done('no-violation', { reason: `time budget of ${opt.timeMs / 1000} s ran out` });
    }
    strategy.begin();
    const r = runExecution(model, strategy, { trace: false });
    executions++;
    steps += r.steps;
    if (r.violation) return done('violated', { violation: r.violation, tape: r.tape, widths: r.widths });
    if (dfs && !dfs.next()) return done('holds');
  }
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

function searchStateful(model: Model, opt: SearchOptions): CheckResult {
  const t0 = Date.now();
  const r = statefulDfs(model, {
    ...(opt.timeMs === undefined ? {} : { timeMs: opt.timeMs }),
    ...(opt.maxStates === undefined ? {} : { maxStates: opt.maxStates }),
    ...(opt.progress === undefined ? {} : { progress: opt.progress }),
  });
  const verdict: Verdict = r.violation ? 'violated' : r.complete ? 'holds' : 'inconclusive';
  const res: CheckResult = {
    ...baseOf(model, opt),
    verdict,
    executions: r.executions,
    steps: r.transitions,
    states: r.states,
    transitions: r.transitions,
    collisionProbability: r.collisionProbability,
    elapsedMs: Date.now() - t0,
  };
  if (r.violation) return { ...res, violation: r.violation, tape: r.tape ?? [], widths: r.widths ?? [] };
  return r.reason === undefined ? res : { ...res, reason: r.reason };
}
