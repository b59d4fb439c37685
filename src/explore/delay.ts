/**
 * Randomized delay bounding (after Emmi, Qadeer and Rakamaric, POPL 2011): the default
 * schedule (choice 0: keep running the current CPU, no speculative walk) is followed except at
 * K randomly placed branch points, where a random other move is taken instead. A run with K
 * delays reaches exactly the executions that deviate from the default schedule K times.
 */
import seedrandom from 'seedrandom';
import type { BranchPoint, Strategy } from './strategy.ts';

export class DelayStrategy implements Strategy {
  private readonly rng: seedrandom.PRNG;
  private points = new Set<number>();

  constructor(
    readonly seed: number,
    readonly delays: number,
    /** Branch points per execution the delays are placed among. */
    readonly horizon: number,
  ) {
    this.rng = seedrandom(`delay:${seed}`);
  }

  begin(): void {
    this.points = new Set(Array.from({ length: this.delays }, () => Math.floor(this.rng() * this.horizon)));
  }

  choose(b: BranchPoint): number {
    if (!this.points.has(b.index) || b.moves.length < 2) return 0;
    return 1 + Math.floor(this.rng() * (b.moves.length - 1));
  }
}
