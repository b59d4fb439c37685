/**
 * Exhaustive depth-first search by re-execution: the strategy keeps the choice stack of the
 * current execution; after each execution `next()` moves to the next unexplored sibling,
 * deepest first. Optionally bounded by the number of non-default choices (preemptions).
 */
import type { BranchPoint, Strategy } from './strategy.ts';

interface Level {
  choice: number;
  readonly n: number;
}

export class DfsStrategy implements Strategy {
  private readonly stack: Level[] = [];
  private pos = 0;
  private nonZero = 0;

  constructor(private readonly preemptions: number | undefined) {}

  begin(): void {
    this.pos = 0;
  }

  choose(b: BranchPoint): number {
    if (this.pos < this.stack.length) {
      const lv = this.stack[this.pos++]!;
      if (lv.n !== b.moves.length) {
        throw new Error(`[tlbcheck bug] nondeterministic model: branch ${b.index} had ${lv.n} moves, now ${b.moves.length}`);
      }
      return lv.choice;
    }
    this.stack.push({ choice: 0, n: b.moves.length });
    this.pos++;
    return 0;
  }

  /** Prepare the next execution; false when the tree is exhausted. */
  next(): boolean {
    while (this.stack.length > this.pos) this.pop();
    while (this.stack.length > 0) {
      const top = this.stack[this.stack.length - 1]!;
      const wasZero = top.choice === 0;
      const allowed = this.preemptions === undefined || this.nonZero + (wasZero ? 1 : 0) <= this.preemptions;
      if (top.choice + 1 < top.n && allowed) {
        top.choice++;
        if (wasZero) this.nonZero++;
        return true;
      }
      this.pop();
    }
    return false;
  }

  private pop(): void {
    const lv = this.stack.pop()!;
    if (lv.choice !== 0) this.nonZero--;
  }
}
