/**
 * Sleep sets as small integers, so the visited table (visited.ts) stores one per state in a
 * byte or two: each distinct set (sorted moves) is kept once, id 0 is the empty set. The
 * stateful DFS stores the set a state was explored with (stateful.ts, Godefroid's revisit rule).
 */
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
