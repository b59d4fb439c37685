/**
 * Swarm verification (Holzmann, Joshi and Groce, "Swarm verification", ASE 2008; Groce et al.,
 * "Swarm testing", ISSTA 2012): many small, differently configured searches instead of one.
 * Member i of a swarm draws its own hardware budgets (walks per CPU, store-buffer depth) and a
 * weight for every actor (a CPU's program, its IPI delivery, drain, walker or evictor) from a
 * wide log scale, zero included for the optional walker and evictor, and then picks each move
 * with probability proportional to its actor's weight. A member thus keeps some store buffers
 * full for long stretches, or never walks speculatively, which uniform choice almost never does.
 *
 * Each member is seeded from (seed, i) alone (seedrandom), so any slice of the members runs
 * the same executions in any process: `--shard I/N` (shard.ts) runs a contiguous slice, and the
 * shards together run exactly the swarm that one process would.
 */
import seedrandom from 'seedrandom';
import type { Bounds } from '../machine/types.ts';
import type { ExecutionStrategy } from './driver.ts';
import { type Model, prepare } from './engine.ts';
import { actorOf } from './pct.ts';
import { type BranchPoint, type Move, MoveKind, moveKind } from './strategy.ts';

const SWARM_WALKS = [0, 1, 2, Number.POSITIVE_INFINITY];
const SWARM_SB = [1, 2, 3];

export class Swarm implements ExecutionStrategy {
  private rng: seedrandom.PRNG = seedrandom('');
  private readonly weight = new Map<number, number>();
  private member: number;
  /** The member prepared last (its global index). */
  current = -1;

  constructor(
    private readonly model: Model,
    readonly seed: number,
    /** Global indices of the members to run: first, and one past the last. */
    readonly first: number,
    readonly end: number,
  ) {
    this.member = first;
  }

  next(): Model | undefined {
    if (this.member >= this.end) return undefined;
    this.current = this.member++;
    this.rng = seedrandom(`swarm:${this.seed}:${this.current}`);
    this.weight.clear();
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(this.rng() * xs.length)]!;
    const bounds: Bounds = { ...this.model.cfg.bounds, walks: pick(SWARM_WALKS), sbDepth: pick(SWARM_SB) };
    return prepare({ ...this.model.cfg, bounds }, this.model.makeMachine);
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

/** Members [first, end) of shard `index` (1-based) of `count` over `total` members: contiguous, disjoint, covering. */
export function shardMembers(total: number, index: number, count: number): { first: number; end: number } {
  return { first: Math.floor(((index - 1) * total) / count), end: Math.floor((index * total) / count) };
}
