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
  private readonly ids = new Map<string, number>();
  private readonly sets: (readonly Move[])[] = [EMPTY];

  idOf(moves: readonly Move[]): number {
    if (moves.length === 0) return 0;
    const sorted = moves.length === 1 ? moves : [...moves].sort((x, y) => x - y);
    const key = sorted.join(',');
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.sets.push(sorted);
      this.ids.set(key, id);
    }
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
