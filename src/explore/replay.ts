/**
 * Replay of a choice tape. A tape that does not fit the program (a choice out of range, or a
 * tape longer or shorter than the execution) is a divergence, never a silent pass.
 */
import { Divergence } from './engine.ts';
import type { BranchPoint, Strategy } from './strategy.ts';

export class ReplayStrategy implements Strategy {
  private pos = 0;

  constructor(
    private readonly tape: readonly number[],
    /** When set, the number of moves expected at each branch point. */
    private readonly widths?: readonly number[],
  ) {}

  begin(): void {
    this.pos = 0;
  }

  choose(b: BranchPoint): number {
    const c = this.tape[this.pos];
    if (c === undefined) throw new Divergence(b.index, `the tape ends after ${this.tape.length} choices, the execution goes on`);
    const w = this.widths?.[this.pos];
    if (w !== undefined && w !== b.moves.length) {
      throw new Divergence(b.index, `${b.moves.length} moves are enabled where the tape recorded ${w}`);
    }
    if (c >= b.moves.length) throw new Divergence(b.index, `choice ${c} but only ${b.moves.length} moves are enabled`);
    this.pos++;
    return c;
  }

  /** Choices the execution did not use. */
  get unused(): number {
    return this.tape.length - this.pos;
  }
}
