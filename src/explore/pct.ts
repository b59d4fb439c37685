/**
 * PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte,
 * ASPLOS 2010), over our actors: each CPU's program, IPI delivery, store-buffer drain and
 * walker is one "thread". A run gives the actors distinct random priorities d..d+n-1, picks
 * d-1 change points among the first k steps, always runs the highest-priority enabled actor,
 * and at the j-th change point drops the running actor's priority to j. One run finds a bug of
 * depth d with probability at least 1/(n * k^(d-1)). The `end` move (stop walking) is an actor
 * of its own with the lowest priority, so optional walks happen when their actor wins.
 *
 * Our addition: each optional actor (a CPU's walker or evictor, where its budget allows any)
 * is muted for the whole run with probability 1/2, i.e. ranked below `end`. Without it a
 * walker, even demoted, outranks every program demoted after it and refills a stale entry
 * before the program uses it, so bugs that need "no speculative walk here" were out of reach
 * at any depth. The printed bound pays for it: 1/(2^w * n * k^(d-1)) for w optional actors
 * (for the configuration of muted actors a bug needs, PCT's own bound holds).
 */
import seedrandom from 'seedrandom';
import { type BranchPoint, type Move, MoveKind, type Strategy, moveCpu, moveKind } from './strategy.ts';

export const actorOf = (m: Move): number => (moveKind(m) === MoveKind.End ? -1 : moveKind(m) * 32 + moveCpu(m));

export class PctStrategy implements Strategy {
  private readonly rng: seedrandom.PRNG;
  private readonly prio = new Map<number, number>();
  private changes: number[] = [];
  private last = -1;

  constructor(
    readonly seed: number,
    readonly depth: number,
    /** Actors (threads), for the priorities and the bound. */
    readonly actors: readonly number[],
    /** Steps per execution the change points are drawn from. */
    readonly k: number,
    /** Optional actors, each muted in a run with probability 1/2. */
    readonly optional: readonly number[] = [],
  ) {
    this.rng = seedrandom(`pct:${seed}`);
  }

  /** Probability that one run finds a given depth-d bug, at least. */
  get perRun(): number {
    return 1 / (2 ** this.optional.length * this.actors.length * this.k ** (this.depth - 1));
  }

  begin(): void {
    const order = [...this.actors];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    this.prio.clear();
    order.forEach((a, i) => this.prio.set(a, this.depth + i));
    this.prio.set(-1, 0);
    for (const a of this.optional) if (this.rng() < 0.5) this.prio.set(a, -1);
    this.changes = Array.from({ length: this.depth - 1 }, () => 1 + Math.floor(this.rng() * this.k));
    this.last = -1;
  }

  choose(b: BranchPoint): number {
    const j = this.changes.indexOf(b.step);
    if (j >= 0 && this.last !== -1) {
      this.prio.set(this.last, this.depth - 1 - j);
      this.changes[j] = -1;
    }
    let best = 0;
    let bestP = Number.NEGATIVE_INFINITY;
    b.moves.forEach((m, i) => {
      const p = this.prio.get(actorOf(m)) ?? this.depth;
      if (p > bestP) {
        best = i;
        bestP = p;
      }
    });
    this.last = actorOf(b.moves[best]!);
    return best;
  }
}

/** The walkers and evictors that can act at all under `bounds`. */
export function optionalActors(cpus: number, bounds: { readonly walks: number; readonly evictions: number }): number[] {
  const out: number[] = [];
  for (let c = 0; c < cpus; c++) {
    if (bounds.walks > 0) out.push(MoveKind.Walk * 32 + c);
    if (bounds.evictions > 0) out.push(MoveKind.Evict * 32 + c);
  }
  return out;
}

/**
 * The actors of a machine with `cpus` CPUs: program, IPI delivery, drain, walker, evictor, and
 * with INVLPGB each CPU's broadcast actor (left out otherwise, so runs without the feature
 * draw the same priorities as before it existed).
 */
export function actorsFor(cpus: number, invlpgb = false): number[] {
  const out: number[] = [];
  for (const k of [MoveKind.Prog, MoveKind.Ipi, MoveKind.Drain, MoveKind.Walk, MoveKind.Evict, ...(invlpgb ? [MoveKind.Bcast] : [])]) {
    for (let c = 0; c < cpus; c++) out.push(k * 32 + c);
  }
  return out;
}
