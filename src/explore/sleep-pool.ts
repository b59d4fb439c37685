/**
 * Sleep sets as small integers, so the visited table (visited.ts) stores one per state in a
 * byte or two: each distinct set (sorted moves) is kept once, id 0 is the empty set. The
 * stateful DFS stores the set a state was explored with (stateful.ts, Godefroid's revisit rule).
 * `withSleep` hashes a (state, sleep set) pair, for the visited sets that keep no sleep sets.
 */
import { Hasher } from '../machine/hash.ts';
import type { Move } from './strategy.ts';

const EMPTY: readonly Move[] = [];

export class SleepPool {
  /** Ids by a hash of the sorted moves; a bucket holds the ids of the sets with that hash. */
  private readonly ids = new Map<number, number[]>();
  private readonly sets: (readonly Move[])[] = [EMPTY];
  private readonly scratch: Move[] = [];

  /** The id of the set of `moves` (any order, no duplicates). */
  idOf(moves: readonly Move[]): number {
    if (moves.length === 0) return 0;
    // This runs at every state with a sleep set: sort into a reused array and look the set up
    // by a numeric hash, so that a set seen before allocates nothing.
    const a = this.scratch;
    a.length = 0;
    for (const m of moves) {
      // Insertion sort: the sets are a few moves long.
      let i = a.length;
      a.push(m);
      while (i > 0 && a[i - 1]! > m) {
        a[i] = a[i - 1]!;
        i--;
      }
      a[i] = m;
    }
    let h = a.length;
    for (const m of a) h = (Math.imul(h ^ m, 0x9e3779b1) + 0x7f4a7c15) | 0;
    let bucket = this.ids.get(h);
    if (bucket) {
      for (const id of bucket) if (sameMoves(this.sets[id]!, a)) return id;
    } else {
      bucket = [];
      this.ids.set(h, bucket);
    }
    const id = this.sets.length;
    this.sets.push(a.slice());
    bucket.push(id);
    return id;
  }

  get(id: number): readonly Move[] {
    const s = this.sets[id];
    if (s === undefined) throw new Error(`[tlbcheck bug] unknown sleep-set id ${id}`);
    return s;
  }

  /** Distinct non-empty sleep sets stored. */
  get count(): number {
    return this.sets.length - 1;
  }
}

function sameMoves(x: readonly Move[], y: readonly Move[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** The hash of the pair (state hash `h`, sleep set): what bitstate marks under sleep sets. */
export function withSleep(h: Uint32Array, sleep: readonly { readonly move: Move }[]): Uint32Array {
  const x = new Hasher();
  x.add(h[0]!);
  x.add(h[1]!);
  const moves = sleep.map((u) => u.move).sort((a, b) => a - b);
  for (const m of moves) x.add(m);
  x.add(moves.length);
  const out = new Uint32Array(2);
  x.key64(out);
  return out;
}
