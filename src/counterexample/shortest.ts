/**
 * The shortest counterexample, by breadth-first search over the states of a model: the first
 * depth (in execution steps) at which some execution violates the given invariant. States are
 * deduplicated by fingerprint, which is sound here because a state reached first at a smaller
 * depth has every continuation the later copy has. This is the yardstick the minimizer is
 * measured against (SPIN's "search again for a shorter trail", done once, exhaustively).
 */
import { type Model, Sim } from '../explore/engine.ts';

interface Node {
  readonly sim: Sim;
  readonly parent: Node | undefined;
  /** Choice taken from the parent (-1: the parent's step was not a branch point). */
  readonly choice: number;
  readonly width: number;
}

export interface Shortest {
  readonly steps: number;
  readonly tape: readonly number[];
  readonly widths: readonly number[];
  /** States expanded. */
  readonly states: number;
}

export interface ShortestOptions {
  readonly maxDepth?: number;
  readonly maxStates?: number;
}

/** Shortest violation of `invariant`; undefined when none exists within the limits. */
export function shortestViolation(model: Model, invariant: string, opt: ShortestOptions = {}): Shortest | undefined {
  const maxDepth = opt.maxDepth ?? model.cfg.bounds.maxSteps;
  const maxStates = opt.maxStates ?? 2_000_000;
  const seen = new Set<number>();
  const root = Sim.start(model, false);
  seen.add(root.fingerprint());
  let frontier: Node[] = [{ sim: root, parent: undefined, choice: -1, width: 1 }];
  for (let depth = 0; depth < maxDepth && frontier.length > 0; depth++) {
    const next: Node[] = [];
    for (const node of frontier) {
      const moves = node.sim.enabledMoves().slice();
      if (moves.length === 0) {
        node.sim.finish();
        if (node.sim.violation?.invariant === invariant) return { steps: node.sim.step, ...tapeOf(node), states: seen.size };
        continue;
      }
      for (let i = 0; i < moves.length; i++) {
        const child = node.sim.clone();
        const alive = child.apply(moves[i]!, undefined);
        const n: Node = { sim: child, parent: node, choice: moves.length > 1 ? i : -1, width: moves.length };
        if (child.violation) {
          if (child.violation.invariant === invariant) return { steps: child.step, ...tapeOf(n), states: seen.size };
          continue;
        }
        if (!alive) continue;
        const fp = child.fingerprint();
        if (seen.has(fp)) continue;
        seen.add(fp);
        if (seen.size > maxStates) return undefined;
        next.push(n);
      }
    }
    frontier = next;
  }
  return undefined;
}

function tapeOf(n: Node): { tape: number[]; widths: number[] } {
  const tape: number[] = [];
  const widths: number[] = [];
  for (let x: Node | undefined = n; x?.parent; x = x.parent) {
    if (x.choice >= 0) {
      tape.push(x.choice);
      widths.push(x.width);
    }
  }
  return { tape: tape.reverse(), widths: widths.reverse() };
}
