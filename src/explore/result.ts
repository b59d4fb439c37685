/**
 * What a check returns: one discriminated union per verdict (`Outcome`) and one per search
 * (`Details`, discriminated by `search`, then `strategy`), joined with the fields every result
 * has. A member lists exactly the fields its search produces; the fields of the other members
 * are declared absent (`?: undefined`), so code that reads `r.states` on any result still
 * compiles and gets `undefined` where there are none, as with fast-check's `RunDetails`.
 */
import type { Violation } from '../invariants/types.ts';
import type { Bounds, Features } from '../machine/types.ts';
import type { StopKind } from './budget.ts';
import type { StoreStats } from './stateful.ts';

export const STRATEGIES = ['dfs', 'bfs', 'dpor', 'random', 'pct', 'delay', 'swarm'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

export type Verdict = 'holds' | 'violated' | 'inconclusive' | 'no-violation';

/** Fields the other members of a union have and this one does not. */
type Absent<K extends string> = { readonly [P in K]?: undefined };

export type Outcome =
  | ({ readonly verdict: 'violated'; readonly violation: Violation; readonly tape: readonly number[]; readonly widths: readonly number[] } & Absent<'reason' | 'stop'>)
  | ({ readonly verdict: 'holds' } & Absent<'violation' | 'tape' | 'widths' | 'reason' | 'stop'>)
  /** An exhaustive search that a budget stopped, or a bitstate search (which proves nothing). */
  | ({ readonly verdict: 'inconclusive'; readonly reason: string; readonly stop?: StopKind } & Absent<'violation' | 'tape' | 'widths'>)
  /** A randomized search that found nothing; `stop` when a budget cut its run count short. */
  | ({ readonly verdict: 'no-violation'; readonly reason?: string; readonly stop?: StopKind } & Absent<'violation' | 'tape' | 'widths'>);

/** What a PCT run count guarantees. */
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

type StatefulKeys = 'states' | 'transitions' | 'collisionProbability' | 'store' | 'sleepPruned' | 'deferred';
type DporKeys = 'races' | 'backtracks' | 'replayedSteps';
type RandomKeys = 'guarantee' | 'delays' | 'swarm';

/** Swarm: which slice of the members this run was (`--shard`), and the members it ran. */
export interface SwarmSlice {
  readonly shard: { readonly index: number; readonly count: number } | null;
  /** Global indices of the first and one past the last member run (member i = execution i of the whole swarm). */
  readonly first: number;
  readonly end: number;
  /** Members asked for in all shards together. */
  readonly total: number;
}

export type Details =
  /** Stateful dfs or bfs: fingerprinted states. */
  | ({
      readonly search: 'stateful';
      readonly strategy: 'dfs' | 'bfs';
      readonly states: number;
      readonly transitions: number;
      readonly collisionProbability: number;
      readonly store: StoreStats;
      /** Moves not taken because asleep, and states where every move was (dfs with sleep sets). */
      readonly sleepPruned: number;
      readonly sleepBlocked: number;
      /** Walks and drains left out because no other move of their state conflicts with them (dfs deferral). */
      readonly deferred: number;
    } & Absent<DporKeys | RandomKeys>)
  /** dfs --stateless: re-execution. */
  | ({ readonly search: 'stateless'; readonly strategy: 'dfs' } & Absent<StatefulKeys | 'sleepBlocked' | DporKeys | RandomKeys>)
  | ({
      readonly search: 'dpor';
      readonly strategy: 'dpor';
      /** Sleep-set-blocked executions. */
      readonly sleepBlocked: number;
      readonly races: number;
      readonly backtracks: number;
      readonly replayedSteps: number;
    } & Absent<StatefulKeys | RandomKeys>)
  | ({ readonly search: 'randomized'; readonly strategy: 'random' } & Absent<StatefulKeys | 'sleepBlocked' | DporKeys | RandomKeys>)
  | ({ readonly search: 'randomized'; readonly strategy: 'pct'; readonly guarantee: Guarantee } & Absent<StatefulKeys | 'sleepBlocked' | DporKeys | 'delays' | 'swarm'>)
  | ({ readonly search: 'randomized'; readonly strategy: 'delay'; readonly delays: number } & Absent<StatefulKeys | 'sleepBlocked' | DporKeys | 'guarantee' | 'swarm'>)
  | ({ readonly search: 'randomized'; readonly strategy: 'swarm'; readonly swarm: SwarmSlice } & Absent<StatefulKeys | 'sleepBlocked' | DporKeys | 'guarantee' | 'delays'>);

/** Every result has these. */
export interface Common {
  readonly variant: string;
  readonly scenario: string;
  readonly cpus: number;
  readonly features: Features;
  /** The bounds of the search (swarm: of the run that found the violation). */
  readonly bounds: Bounds;
  readonly seed: number;
  /** Executions: ended runs (stateful: distinct terminal states). */
  readonly executions: number;
  /** Steps executed (stateful: transitions). */
  readonly steps: number;
  readonly elapsedMs: number;
}

export type CheckResult = Common & Outcome & Details;
