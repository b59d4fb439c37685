/**
 * Breadth-first search with state caching: the first violation it meets is one of the
 * shortest (fewest steps) in the state graph, which is what a counterexample reader wants.
 * Same fingerprints and soundness argument as the stateful DFS (stateful.ts); it keeps the
 * frontier in memory, so it suits small and medium models. A preemption bound counts
 * non-default choices as the stateful DFS does, and is part of the fingerprint there too.
 * It has no sleep sets: it explores every enabled move.
 */
import { collisionProbability } from '../machine/hash.ts';
import { BitstateTable } from './bitstate.ts';
import { VisitedTable } from './visited.ts';
import { type Model, Sim } from './sim.ts';
import { type StatefulOptions, type StatefulResult, limitsOf } from './stateful.ts';
import { Budget } from './budget.ts';

interface Node {
  readonly sim: Sim;
  readonly tape: readonly number[];
  readonly widths: readonly number[];
  /** Non-default choices on the way here. */
  readonly preemptions: number;
}

export function statefulBfs(model: Model, opt: StatefulOptions = {}): StatefulResult {
  const t0 = Date.now();
  const budget = new Budget(limitsOf(opt));
  let polls = 0;
  const store = opt.store ?? { kind: 'compact' };
  const visited = store.kind === 'compact' ? new VisitedTable(false) : undefined;
  const bits = store.kind === 'bitstate' ? new BitstateTable(store.log2bits) : undefined;
  const h = new Uint32Array(2);
  /** Marks the state whose hash is in `h`; true when it is new. */
  const mark = (): boolean => (bits ? bits.testAndSet(h) : visited!.findOrInsert(h) < 0);
  const stored = (): number => visited?.size ?? bits?.size ?? 0;
  let transitions = 0;
  let executions = 0;
  let depth = 0;
  const result = (extra: Partial<StatefulResult> & { complete: boolean }): StatefulResult => ({
    states: stored(),
    transitions,
    executions,
    sleepPruned: 0,
    sleepBlocked: 0,
    deferred: 0,
    maxDepth: depth,
    collisionProbability: collisionProbability(stored(), 64),
    store: bits ? { kind: 'bitstate', bytes: bits.bytes, bits: bits.bits, coverage: bits.coverage() } : { kind: 'compact', bytes: visited?.bytes ?? 0, sleepSets: 0 },
    ...extra,
  });
  const root = Sim.start(model, false);
  root.fingerprint(0, h);
  mark();
  if (root.violation) return result({ complete: false, violation: root.violation, tape: [], widths: [] });
  const bound = model.cfg.bounds.preemptions;
  let level: Node[] = [{ sim: root, tape: [], widths: [], preemptions: 0 }];
  while (level.length > 0) {
    const next: Node[] = [];
    depth++;
    for (const node of level) {
      // The execution and state budgets are checked exactly (the others every 256 states).
      if (opt.maxExecutions !== undefined && executions >= opt.maxExecutions) {
        return result({ complete: false, reason: `execution budget of ${opt.maxExecutions} ran out`, stop: 'executions' });
      }
      if ((++polls & 255) === 0) {
        opt.progress?.({ states: stored(), transitions, executions, depth, maxDepth: depth, elapsedMs: Date.now() - t0 });
        const stop = budget.exceeded(stored(), executions);
        if (stop) return result({ complete: false, reason: stop.reason, stop: stop.kind });
      }
      const moves = node.sim.enabledMoves().slice();
      if (moves.length === 0) {
        node.sim.finish();
        executions++;
        if (node.sim.violation) return result({ complete: false, violation: node.sim.violation, tape: node.tape, widths: node.widths });
        continue;
      }
      const last = bound === undefined || node.preemptions < bound ? moves.length - 1 : 0;
      for (let i = 0; i <= last; i++) {
        if (opt.maxStates !== undefined && stored() >= opt.maxStates) {
          return result({ complete: false, reason: `state budget of ${opt.maxStates} ran out`, stop: 'states' });
        }
        const mv = moves[i]!;
        const preemptions = node.preemptions + (i > 0 ? 1 : 0);
        const child = i === last ? node.sim : node.sim.cloneFor(mv);
        const alive = child.apply(mv, undefined);
        transitions++;
        const tape = moves.length > 1 ? [...node.tape, i] : node.tape;
        const widths = moves.length > 1 ? [...node.widths, moves.length] : node.widths;
        if (child.violation) return result({ complete: false, violation: child.violation, tape, widths });
        if (!alive) {
          executions++;
          continue;
        }
        child.fingerprint(bound === undefined ? 0 : preemptions, h);
        if (!mark()) continue;
        next.push({ sim: child, tape, widths, preemptions });
      }
    }
    level = next;
  }
  return result({ complete: true });
}
