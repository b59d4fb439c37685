/**
 * Breadth-first search with state caching: the first violation it meets is one of the
 * shortest (fewest steps) in the state graph, which is what a counterexample reader wants.
 * Same fingerprints and soundness argument as the stateful DFS (stateful.ts); it keeps the
 * frontier in memory, so it suits small and medium models.
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
    maxDepth: depth,
    collisionProbability: collisionProbability(stored(), 64),
    store: bits ? { kind: 'bitstate', bytes: bits.bytes, bits: bits.bits, coverage: bits.coverage() } : { kind: 'compact', bytes: visited?.bytes ?? 0, sleepSets: 0 },
    ...extra,
  });
  const root = Sim.start(model, false);
  root.fingerprint(0, h);
  mark();
  if (root.violation) return result({ complete: false, violation: root.violation, tape: [], widths: [] });
  let level: Node[] = [{ sim: root, tape: [], widths: [] }];
  while (level.length > 0) {
    const next: Node[] = [];
    depth++;
    for (const node of level) {
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
      for (let i = 0; i < moves.length; i++) {
        const mv = moves[i]!;
        const child = i === moves.length - 1 ? node.sim : node.sim.cloneFor(mv);
        const alive = child.apply(mv, undefined);
        transitions++;
        const tape = moves.length > 1 ? [...node.tape, i] : node.tape;
        const widths = moves.length > 1 ? [...node.widths, moves.length] : node.widths;
        if (child.violation) return result({ complete: false, violation: child.violation, tape, widths });
        if (!alive) {
          executions++;
          continue;
        }
        child.fingerprint(0, h);
        if (!mark()) continue;
        next.push({ sim: child, tape, widths });
      }
    }
    level = next;
  }
  return result({ complete: true });
}
