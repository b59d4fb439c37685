/**
 * Exhaustive depth-first search with state caching: a state whose fingerprint was seen before
 * is not explored again. Sound because the fingerprint covers everything that decides the
 * future (machine, ghost, each frame's routine and the inputs it has received: routines are
 * deterministic) and because no execution has a cycle (every step consumes program progress or
 * a budget). The preemption bound, when set, is part of the fingerprint, so the pruning stays
 * sound under it too. A fingerprint collision could hide a state: the result carries the
 * birthday-bound probability of one.
 */
import { collisionProbability } from '../machine/hash.ts';
import type { Violation } from '../invariants/types.ts';
import { type Model, Sim } from './sim.ts';
import type { Move } from './strategy.ts';

export interface StatefulResult {
  readonly complete: boolean;
  readonly reason?: string;
  readonly violation?: Violation;
  readonly tape?: readonly number[];
  readonly widths?: readonly number[];
  readonly states: number;
  readonly transitions: number;
  /** Distinct terminal states reached. */
  readonly executions: number;
  readonly maxDepth: number;
  readonly collisionProbability: number;
}

interface Entry {
  readonly sim: Sim;
  readonly moves: readonly Move[];
  next: number;
  readonly preemptions: number;
}

export interface StatefulOptions {
  readonly timeMs?: number;
  readonly maxStates?: number;
  /** Called on every distinct final state reached without a violation. */
  readonly final?: (sim: Sim) => void;
  /** Keep exploring past violations (litmus outcome enumeration), reporting each here. */
  readonly all?: boolean;
  readonly violation?: (v: Violation) => void;
  /** Called every 1024 transitions with the search so far; must not print (only the CLI prints). */
  readonly progress?: (p: StatefulProgress) => void;
}

export interface StatefulProgress {
  readonly states: number;
  readonly transitions: number;
  readonly executions: number;
  /** Current depth of the DFS stack, and the deepest so far. */
  readonly depth: number;
  readonly maxDepth: number;
  readonly elapsedMs: number;
}

export function statefulDfs(model: Model, opt: StatefulOptions = {}): StatefulResult {
  const t0 = Date.now();
  const bound = model.cfg.bounds.preemptions;
  const root = Sim.start(model, false);
  const visited = new Set<number>();
  let transitions = 0;
  let executions = 0;
  let maxDepth = 0;
  const stack: Entry[] = [];
  const result = (extra: Partial<StatefulResult> & { complete: boolean }): StatefulResult => ({
    states: visited.size,
    transitions,
    executions,
    maxDepth,
    collisionProbability: collisionProbability(visited.size),
    ...extra,
  });
  const tapeOf = (): { tape: number[]; widths: number[] } => {
    const tape: number[] = [];
    const widths: number[] = [];
    for (const e of stack) {
      if (e.moves.length > 1) {
        tape.push(e.next - 1);
        widths.push(e.moves.length);
      }
    }
    return { tape, widths };
  };
  const push = (sim: Sim, preemptions: number): Violation | undefined => {
    const moves = sim.enabledMoves();
    if (moves.length === 0) {
      sim.finish();
      executions++;
      if (!sim.violation) opt.final?.(sim);
      else if (opt.all) opt.violation?.(sim.violation);
      return opt.all ? undefined : sim.violation;
    }
    stack.push({ sim, moves: moves.slice(), next: 0, preemptions });
    if (stack.length > maxDepth) maxDepth = stack.length;
    return undefined;
  };
  visited.add(root.fingerprint());
  const v0 = root.violation ?? push(root, 0);
  if (v0) return result({ complete: false, violation: v0, tape: [], widths: [] });

  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next >= top.moves.length) {
      stack.pop();
      continue;
    }
    if ((transitions & 1023) === 0) {
      opt.progress?.({ states: visited.size, transitions, executions, depth: stack.length, maxDepth, elapsedMs: Date.now() - t0 });
      if (opt.timeMs !== undefined && Date.now() - t0 > opt.timeMs) {
        return result({ complete: false, reason: `time budget of ${opt.timeMs / 1000} s ran out` });
      }
      if (opt.maxStates !== undefined && visited.size >= opt.maxStates) {
        return result({ complete: false, reason: `state budget of ${opt.maxStates} ran out` });
      }
    }
    const i = top.next++;
    const preemptions = top.preemptions + (i > 0 && top.moves.length > 1 ? 1 : 0);
    if (bound !== undefined && preemptions > bound) continue;
    // The last child may take over its parent's state: the parent is done after it.
    const child = top.next === top.moves.length ? top.sim : top.sim.cloneFor(top.moves[i]!);
    const alive = child.apply(top.moves[i]!, undefined);
    transitions++;
    if (child.violation) {
      if (opt.all) {
        opt.violation?.(child.violation);
        continue;
      }
      return result({ complete: false, violation: child.violation, ...tapeOf() });
    }
    if (!alive) {
      executions++;
      opt.final?.(child);
      continue;
    }
    const fp = child.fingerprint(bound === undefined ? 0 : preemptions);
    if (visited.has(fp)) continue;
    visited.add(fp);
    const v = push(child, preemptions);
    if (v) return result({ complete: false, violation: v, ...tapeOf() });
  }
  return result({ complete: true });
}
