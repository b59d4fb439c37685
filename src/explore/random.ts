/**
 * Uniform random choice at every branch point, from one seeded source (seedrandom). Swarm's
 * weighted choice is swarm.ts.
 */
import seedrandom from 'seedrandom';
import type { BranchPoint, Strategy } from './strategy.ts';

export class RandomStrategy implements Strategy {
  private readonly rng: seedrandom.PRNG;

  constructor(readonly seed: number) {
    this.rng = seedrandom(String(seed));
  }

  begin(): void {}

  choose(b: BranchPoint): number {
    return Math.floor(this.rng() * b.moves.length);
  }
}
