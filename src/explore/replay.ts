/**
 * Replay of a choice tape. A tape that does not fit the program (a choice out of range, a
 * different number of enabled moves where they are checked, or a tape that runs out) is a
 * divergence, never a silent pass. With `extend`, a tape that runs out is continued with
 * default choices instead (replay on another variant).
 */
import { Divergence } from './engine.ts';
import type { BranchPoint, Strategy } from './strategy.ts';

export class ReplayStrategy implements Strategy {
  private pos = 0;
  /** True once a choice beyond the tape was made. */
  extended = false;

  constructor(
    private readonly tape: readonly number[],
    /** When set, the number of moves expected at each branch point. */
    private readonly widths?: readonly number[],
    private readonly extend = false,
  ) {}

  begin(): void {
    this.pos = 0;
    this.extended = false;
  }

  choose(b: BranchPoint): number {
    const c = this.tape[this.pos];
    if (c === undefined) {
      if (this.extend) {
        this.extended = true;
        return 0;
      }
      throw new Divergence(b.step + 1, `the tape ends after ${this.tape.length} choices, the execution goes on`);
    }
    const w = this.widths?.[this.pos];
    if (w !== undefined && w !== b.moves.length) {
      throw new Divergence(b.step + 1, `${b.moves.length} moves are enabled where the tape recorded ${w} (choice ${b.index})`);
    }
    if (c >= b.moves.length) throw new Divergence(b.step + 1, `choice ${b.index} on the tape is ${c}, but only ${b.moves.length} moves are enabled`);
    this.pos++;
    return c;
  }

  /** Choices the execution did not use. */
  get unused(): number {
    return this.tape.length - this.pos;
  }
}
