/**
 * Breadth-first search with state caching: the first violation it meets is one of the
 * shortest (fewest steps) in the state graph, which is what a counterexample reader wants.
 * Same fingerprints and soundness argument as the stateful DFS (stateful.ts); it keeps the
 * frontier in memory, so it suits small and medium models.
 */
import { collisionProbability } from '../machine/hash.ts';
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
  const visited = new Set<number>();
  let transitions = 0;
  let executions = 0;
  let depth = 0;
  const result = (extra: Partial<StatefulResult> & { complete: boolean }): StatefulResult => ({
    states: visited.size,
    transitions,
    executions,
    sleepPruned: 0,
    sleepBlocked: 0,
    maxDepth: depth,
    collisionProbability: collisionProbability(visited.size),
    ...extra,
  });
  const root = Sim.start(model, false);
  visited.add(root.fingerprint());
  if (root.violation) return result({ complete: false, violation: root.violation, tape: [], widths: [] });
  let level: Node[] = [{ sim: root, tape: [], widths: [] }];
  while (level.length > 0) {
    const next: Node[] = [];
    depth++;
    for (const node of level) {
      if ((++polls & 255) === 0) {
        opt.progress?.({ states: visited.size, transitions, executions, depth, maxDepth: depth, elapsedMs: Date.now() - t0 });
        const stop = budget.exceeded(visited.size);
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
        const fp = child.fingerprint();
        if (visited.has(fp)) continue;
        visited.add(fp);
        next.push({ sim: child, tape, widths });
      }
    }
    level = next;
  }
  return result({ complete: true });
}
