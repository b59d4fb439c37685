/**
 * Random schedulers, each from one seeded source (seedrandom): uniform choice at every branch
 * point, and swarm's per-run actor weights.
 */
import seedrandom from 'seedrandom';
import { actorOf } from './pct.ts';
import { type BranchPoint, type Move, MoveKind, type Strategy, moveKind } from './strategy.ts';

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

/**
 * Swarm's scheduler: each run draws a weight for every actor (a CPU's program, its IPI
 * delivery, drain, walker or evictor) from a wide log scale, zero included for the optional
 * walker and evictor, and then picks each move with probability proportional to its actor's
 * weight. A run thus keeps some store buffers full for long stretches, or never walks
 * speculatively, which uniform choice almost never does (Groce et al., "Swarm testing",
 * ISSTA 2012, varies features per run in the same way).
 */
export class SwarmStrategy implements Strategy {
  private readonly rng: seedrandom.PRNG;
  private readonly weight = new Map<number, number>();

  constructor(readonly seed: number) {
    this.rng = seedrandom(`swarm-weights:${seed}`);
  }

  begin(): void {
    this.weight.clear();
  }

  private weightOf(m: Move): number {
    const a = actorOf(m);
    let w = this.weight.get(a);
    if (w === undefined) {
      const k = moveKind(m);
      const optional = k === MoveKind.Walk || k === MoveKind.Evict;
      w = optional && this.rng() < 0.5 ? 0 : 4 ** Math.floor(this.rng() * 5 - 2);
      if (k === MoveKind.End) w = 1;
      this.weight.set(a, w);
    }
    return w;
  }

  choose(b: BranchPoint): number {
    let total = 0;
    for (const m of b.moves) total += this.weightOf(m);
    if (total === 0) return 0;
    let x = this.rng() * total;
    for (let i = 0; i < b.moves.length; i++) {
      x -= this.weightOf(b.moves[i]!);
      if (x < 0) return i;
    }
    return b.moves.length - 1;
  }
}
