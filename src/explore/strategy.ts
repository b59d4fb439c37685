/**
 * The strategy seam: at each branch point the engine describes the enabled moves and the
 * strategy answers with an index. Choice 0 is the default: keep running the current CPU's
 * program, no speculative walk. Strategies never see machine state.
 */

export const enum MoveKind {
  Prog = 0,
  Ipi = 1,
  Drain = 2,
  Walk = 3,
  Evict = 4,
  End = 5,
  /** A CPU applies one INVLPGB invalidation waiting at it (arg: the issuing CPU). */
  Bcast = 6,
  /**
   * The scheduler on a CPU switches to another task (arg: the task): a preemption of the
   * running task where its preempt_count is 0 and IRQs are on, or the switch away from a task
   * that exited. Runs the generation's context_switch.
   */
  Sched = 7,
}

/** A move packed in a number: kind | cpu << 3 | arg << 8. */
export type Move = number;

export const packMove = (kind: MoveKind, cpu: number, arg = 0): Move => kind | (cpu << 3) | (arg << 8);
export const moveKind = (m: Move): MoveKind => (m & 7) as MoveKind;
export const moveCpu = (m: Move): number => (m >>> 3) & 31;
export const moveArg = (m: Move): number => m >>> 8;

export interface BranchPoint {
  /** Index of this branch point in the execution (= position on the choice tape). */
  readonly index: number;
  /** Execution step number. */
  readonly step: number;
  readonly moves: readonly Move[];
}

export interface Strategy {
  /** Called before each execution. */
  begin(): void;
  choose(b: BranchPoint): number;
}
