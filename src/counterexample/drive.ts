/**
 * Drive one execution move by move and remember which move (actor) was taken at every step,
 * not only the choice index at branch points. The minimizer and the cross-variant replay work
 * on these move sequences, because a move names its actor (program, drain, walk of a va, IPI
 * delivery) in a way that survives a changed scenario or routine table, while an index does
 * not. The loop is the engine's (`runExecution`), with the pick made by a callback.
 */
import type { Violation } from '../invariants/types.ts';
import { type Model, Sim, type TraceEvent } from '../explore/engine.ts';
import { type Move, MoveKind, moveKind } from '../explore/strategy.ts';

export interface Driven {
  readonly violation?: Violation;
  readonly steps: number;
  readonly tape: readonly number[];
  readonly widths: readonly number[];
  /** The move taken at every step, branch point or not. */
  readonly moves: readonly Move[];
  readonly trace?: readonly TraceEvent[];
}

/**
 * Pick a move among `moves` (choice 0 first); called at every step, `branch` says whether
 * it is a branch point (more than one move: the pick goes on the tape).
 */
export type Pick = (moves: readonly Move[], branch: boolean) => number;

export function drive(model: Model, pick: Pick, trace = false): Driven {
  const sim = Sim.start(model, trace);
  const tape: number[] = [];
  const widths: number[] = [];
  const taken: Move[] = [];
  while (!sim.violation) {
    const moves = sim.enabledMoves();
    if (moves.length === 0) {
      sim.finish();
      break;
    }
    const c = pick(moves, moves.length > 1);
    const choice = c >= 0 && c < moves.length ? c : 0;
    let branch: number | undefined;
    if (moves.length > 1) {
      branch = tape.length;
      tape.push(choice);
      widths.push(moves.length);
    }
    const mv = moves[choice]!;
    taken.push(mv);
    if (!sim.apply(mv, branch)) break;
  }
  const base = { steps: sim.step, tape, widths, moves: taken };
  const withTrace = sim.trace ? { ...base, trace: sim.trace } : base;
  return sim.violation ? { ...withTrace, violation: sim.violation } : withTrace;
}

/** Replay a tape; past its end, and where a choice is out of range, take choice 0. */
export function driveTape(model: Model, tape: readonly number[], trace = false): Driven {
  let i = 0;
  return drive(model, (moves, branch) => {
    if (!branch) return 0;
    const c = tape[i++] ?? 0;
    return c < moves.length ? c : 0;
  }, trace);
}

/**
 * Follow a move script: at each step take the script's next move if it is enabled; skip
 * script moves of hardware actors that are not enabled (a walk that would fill nothing, a
 * drain of an empty buffer); when the script's program move is not enabled, or the script
 * has run out, take choice 0.
 */
export function driveScript(model: Model, script: readonly Move[], trace = false): Driven {
  let i = 0;
  return drive(model, (moves) => {
    while (i < script.length) {
      const want = script[i]!;
      const at = moves.indexOf(want);
      if (at >= 0) {
        i++;
        return at;
      }
      const k = moveKind(want);
      if (k === MoveKind.Prog) return 0;
      i++;
    }
    return 0;
  }, trace);
}
