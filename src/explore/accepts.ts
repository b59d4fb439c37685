/**
 * Which bounds and knobs each search honours: one table. A search given one it does not honour
 * refuses it with one line (a UserError, exit 2) before it starts, instead of ignoring it.
 * Every entry marked here is honoured by the search it names (tested in
 * properties/strategy-bounds.test.ts).
 */
import { UserError } from '../errors.ts';
import type { StrategyName } from './result.ts';

export type Knob = 'maxExecutions' | 'timeMs' | 'maxMemoryMb' | 'maxStates' | 'preemptions' | 'por' | 'noPor' | 'bitstate' | 'depth' | 'delays' | 'shard' | 'noDefer';

export type SearchKind = StrategyName | 'dfs-stateless';

const ALL_RANDOM: readonly Knob[] = ['maxExecutions', 'timeMs', 'maxMemoryMb', 'noPor'];

export const ACCEPTS: Readonly<Record<SearchKind, readonly Knob[]>> = {
  dfs: ['maxExecutions', 'timeMs', 'maxMemoryMb', 'maxStates', 'preemptions', 'por', 'noPor', 'bitstate', 'noDefer'],
  'dfs-stateless': ['maxExecutions', 'timeMs', 'maxMemoryMb', 'preemptions', 'noPor'],
  bfs: ['maxExecutions', 'timeMs', 'maxMemoryMb', 'maxStates', 'preemptions', 'noPor', 'bitstate'],
  dpor: ['maxExecutions', 'timeMs', 'maxMemoryMb'],
  random: [...ALL_RANDOM, 'preemptions'],
  pct: [...ALL_RANDOM, 'depth'],
  delay: [...ALL_RANDOM, 'preemptions', 'delays'],
  swarm: [...ALL_RANDOM, 'preemptions', 'shard'],
};

const FLAG: Readonly<Record<Knob, string>> = {
  maxExecutions: '--max-executions',
  timeMs: '--time',
  maxMemoryMb: '--max-memory',
  maxStates: '--max-states',
  preemptions: '--preemptions',
  por: 'sleep-set reduction',
  noPor: '--no-por',
  bitstate: '--bitstate',
  depth: '--depth',
  delays: '--delays',
  shard: '--shard',
  noDefer: '--no-defer',
};

/** Why a search does not take a knob, where there is more to say than "it does not". */
function why(kind: SearchKind, k: Knob): string {
  switch (k) {
    case 'maxStates':
      return 'it keeps no states (the state budget bounds dfs and bfs)';
    case 'preemptions':
      return kind === 'dpor' ? 'no preemption bound (use dfs for bounded search)' : 'PCT picks moves by priority, and a preemption bound would void its printed guarantee';
    case 'por':
      return 'only dfs has sleep sets';
    case 'noPor':
      return 'DPOR is partial-order reduction itself';
    case 'bitstate':
      return 'bitstate is a visited set, for dfs and bfs';
    case 'depth':
      return '--depth is PCT\'s bug depth';
    case 'delays':
      return '--delays is delay bounding\'s';
    case 'shard':
      return '--shard slices the members of --strategy swarm';
    case 'noDefer':
      return kind === 'dfs-stateless' ? 'only the stateful dfs defers walks and drains' : 'it never defers walks and drains (the stateful dfs does)';
    default:
      return 'it has no use for it';
  }
}

/** The one-line refusal for the first knob in `given` that `kind` does not honour. */
export function refuseUnsupported(kind: SearchKind, given: readonly Knob[]): void {
  const ok = ACCEPTS[kind];
  for (const k of given) {
    if (ok.includes(k)) continue;
    const name = kind === 'dfs-stateless' ? 'dfs --stateless' : kind;
    if (k === 'preemptions' && kind === 'dpor') throw new UserError(`--strategy dpor takes no preemption bound (use dfs for bounded search)`);
    throw new UserError(`--strategy ${name} does not take ${FLAG[k]}: ${why(kind, k)}`);
  }
}
