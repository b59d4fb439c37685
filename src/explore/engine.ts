/**
 * Runs one execution of a model under a strategy, and reports the first violation, the choice
 * tape and, on request, a trace.
 */
import type { Violation } from '../invariants/types.ts';
import { type Model, Sim, type TraceEvent } from './sim.ts';
import type { Strategy } from './strategy.ts';

export interface ExecutionResult {
  readonly violation?: Violation;
  readonly steps: number;
  readonly tape: readonly number[];
  /** Number of enabled moves at each branch point. */
  readonly widths: readonly number[];
  readonly trace?: readonly TraceEvent[];
}

/** A strategy may throw this to stop an execution (replay that no longer fits). */
export class Divergence extends Error {
  constructor(
    /** The execution step that could not be taken as the tape says. */
    readonly at: number,
    readonly reason: string,
  ) {
    super(`diverged at step ${at}: ${reason}`);
  }
}

export interface RunOptions {
  readonly trace: boolean;
  /** Called with the final state of an execution that ended without a violation. */
  readonly final?: (sim: Sim) => void;
}

export function runExecution(model: Model, strategy: Strategy, opts: RunOptions): ExecutionResult {
  const sim = Sim.start(model, opts.trace);
  const tape: number[] = [];
  const widths: number[] = [];
  while (!sim.violation) {
    const moves = sim.enabledMoves();
    if (moves.length === 0) {
      sim.finish();
      break;
    }
    let choice = 0;
    let branch: number | undefined;
    if (moves.length > 1) {
      branch = tape.length;
      choice = strategy.choose({ index: branch, step: sim.step, moves });
      if (!(choice >= 0 && choice < moves.length)) {
        throw new Divergence(sim.step + 1, `choice ${choice} but only ${moves.length} moves are enabled`);
      }
      tape.push(choice);
      widths.push(moves.length);
    }
    if (!sim.apply(moves[choice]!, branch)) break;
  }
  if (!sim.violation) opts.final?.(sim);
  const base = { steps: sim.step, tape, widths };
  const withTrace = sim.trace ? { ...base, trace: sim.trace } : base;
  return sim.violation ? { ...withTrace, violation: sim.violation } : withTrace;
}

export { prepare, Sim, type CheckConfig, type Model, type TraceEvent } from './sim.ts';
