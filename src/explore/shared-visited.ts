/**
 * The visited set shared by the worker threads of one stateful search (`check --workers N`,
 * parallel.ts): 64-bit state hashes in a fixed-size open-addressed table in a
 * SharedArrayBuffer, inserted lock-free (Atomics.compareExchange on one 64-bit word; linear
 * probing). Two threads that meet the same state both try to claim its slot, and exactly one
 * gets it. The table cannot grow while threads use it: it is sized from the memory budget, and
 * a search that fills it to 90% stops as inconclusive.
 *
 * Each slot also keeps the sleep set its state was (last) explored with, as the sequential
 * table does (visited.ts, sleep-pool.ts), so a state met again with a smaller sleep set is
 * explored only for the moves that woke up (Godefroid's revisit rule) instead of being stored
 * again as a new (state, sleep set) pair. The sets live in a shared append-only arena of Int32
 * words (`[length, moves...]`, bump-allocated with Atomics.add), each distinct set once (an
 * index by hash finds it); a slot's value is
 *
 * - 0: claimed, its set not yet written (a reader waits the few instructions until it is);
 * - 1: the empty set (nothing was asleep: every move was explored);
 * - UNKNOWN: the arena was full, so the set is not known (a revisit explores every move not
 *   asleep now, as a first visit would: more work, never a missed move);
 * - otherwise the arena offset of the set.
 *
 * A revisit replaces the value by compare-and-swap, so two threads that revisit one state at
 * once do not lose each other's update; exploring the moves that woke is the same work the
 * sequential search does.
 *
 * The hash (0, 0) marks an empty slot, so a state hashing to it is stored as (0, 1) (as in
 * visited.ts).
 */
import type { Move } from './strategy.ts';

/** Slots: a power of two. Cells: [0] = states stored. */
export interface SharedVisitedData {
  readonly slots: SharedArrayBuffer;
  readonly vals: SharedArrayBuffer;
  /** Int32 words: [0] next free word, then `[length, moves...]` records. */
  readonly arena: SharedArrayBuffer;
  /** Int32 arena offsets by a hash of the set (0: empty): each distinct set is stored once. */
  readonly sets: SharedArrayBuffer;
  readonly count: SharedArrayBuffer;
}

export const MAX_FILL = 0.9;
const EMPTY_SET = 1;
const UNKNOWN = -1;
/** First arena word a record may use (0 is the bump pointer, 1 keeps offsets apart from EMPTY_SET). */
const ARENA_START = 2;

/** A table of at most `bytes` bytes (at least 1024 slots): 12 bytes per slot, 3.5 for sleep sets. */
export function makeSharedVisited(bytes: number): SharedVisitedData {
  let slots = 1024;
  while (slots * 2 * 15.5 <= bytes && slots < 2 ** 27) slots *= 2;
  const arena = new SharedArrayBuffer(Math.max(4096, slots * 3));
  new Int32Array(arena)[0] = ARENA_START;
  return { slots: new SharedArrayBuffer(slots * 8), vals: new SharedArrayBuffer(slots * 4), arena, sets: new SharedArrayBuffer(Math.max(4096, slots / 2)), count: new SharedArrayBuffer(8) };
}

export class SharedVisited {
  private readonly keys: BigInt64Array;
  private readonly vals: Int32Array;
  private readonly arena: Int32Array;
  private readonly sets: Int32Array;
  private readonly counter: Int32Array;
  private readonly mask: number;
  readonly limit: number;

  constructor(data: SharedVisitedData) {
    this.keys = new BigInt64Array(data.slots);
    this.vals = new Int32Array(data.vals);
    this.arena = new Int32Array(data.arena);
    this.sets = new Int32Array(data.sets);
    this.counter = new Int32Array(data.count);
    this.mask = this.keys.length - 1;
    this.limit = Math.floor(this.keys.length * MAX_FILL);
  }

  /** States stored by all threads. */
  get size(): number {
    return Atomics.load(this.counter, 0);
  }

  get bytes(): number {
    return this.keys.byteLength + this.vals.byteLength + this.arena.byteLength + this.sets.byteLength;
  }

  get full(): boolean {
    return this.size >= this.limit;
  }

  /** Arena words used by stored sleep sets (for the result's memory figure). */
  get arenaWords(): number {
    return Math.min(Atomics.load(this.arena, 0), this.arena.length);
  }

  /**
   * The slot of hash (h[at], h[at + 1]): `~slot` (< 0) when this thread claimed it now (it must
   * then `store` the sleep set it explores the state with), else the slot (>= 0).
   */
  claim(h: Uint32Array, at = 0): number {
    const hi = h[at]!;
    const lo = hi === 0 && h[at + 1] === 0 ? 1 : h[at + 1]!;
    const key = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    let i = (Math.imul(hi ^ lo, 0x9e3779b1) >>> 0) & this.mask;
    for (let probes = 0; probes <= this.mask; probes++) {
      const old = Atomics.compareExchange(this.keys, i, 0n, key);
      if (old === 0n) {
        Atomics.add(this.counter, 0, 1);
        return ~i;
      }
      if (old === key) return i;
      i = (i + 1) & this.mask;
    }
    throw new Error('[tlbcheck bug] shared visited table overfull');
  }

  /** Claim the state with the empty sleep set; true when this thread stored it first. */
  testAndSet(h: Uint32Array, at = 0): boolean {
    const s = this.claim(h, at);
    if (s >= 0) return false;
    Atomics.store(this.vals, ~s, EMPTY_SET);
    return true;
  }

  /** Store the sleep set of a slot this thread just claimed. */
  store(slot: number, asleep: readonly Move[]): void {
    Atomics.store(this.vals, slot, this.encode(asleep));
  }

  /** A slot's value, once its claimer has written it. */
  read(slot: number): number {
    for (;;) {
      const v = Atomics.load(this.vals, slot);
      if (v !== 0) return v;
    }
  }

  /** The moves of a value `read` returned; undefined for UNKNOWN. */
  movesOf(v: number): readonly Move[] | undefined {
    if (v === EMPTY_SET) return [];
    if (v === UNKNOWN) return undefined;
    const n = this.arena[v]!;
    return Array.from(this.arena.subarray(v + 1, v + 1 + n));
  }

  /** Replace value `old` of `slot` by the set `asleep`; false when another thread changed it first. */
  replace(slot: number, old: number, asleep: readonly Move[]): boolean {
    return Atomics.compareExchange(this.vals, slot, old, this.encode(asleep)) === old;
  }

  /**
   * The arena offset of the set `asleep`, stored once per distinct set (most states are met
   * with one of a few sets): looked up by hash in `sets`, appended and published by
   * compare-and-swap when new. A set that loses the race for its slot to an equal one uses
   * the winner's record (its own stays unused). UNKNOWN when the arena or the index is full.
   */
  private encode(asleep: readonly Move[]): number {
    if (asleep.length === 0) return EMPTY_SET;
    const moves = asleep.length === 1 ? asleep : [...asleep].sort((a, b) => a - b);
    let h = moves.length;
    for (const m of moves) h = (Math.imul(h ^ m, 0x9e3779b1) + 0x7f4a7c15) | 0;
    const n = this.sets.length;
    let i = (h >>> 0) % n;
    for (let probes = 0; probes < n; probes++) {
      const at = Atomics.load(this.sets, i);
      if (at === 0) {
        const mine = this.append(moves);
        if (mine === UNKNOWN) return UNKNOWN;
        const won = Atomics.compareExchange(this.sets, i, 0, mine);
        if (won === 0) return mine;
        if (this.same(won, moves)) return won;
      } else if (this.same(at, moves)) return at;
      i = i + 1 === n ? 0 : i + 1;
    }
    return UNKNOWN;
  }

  private same(at: number, moves: readonly Move[]): boolean {
    if (this.arena[at] !== moves.length) return false;
    for (let k = 0; k < moves.length; k++) if (this.arena[at + 1 + k] !== moves[k]) return false;
    return true;
  }

  private append(moves: readonly Move[]): number {
    const need = moves.length + 1;
    const at = Atomics.add(this.arena, 0, need);
    if (at + need > this.arena.length) return UNKNOWN;
    this.arena[at] = moves.length;
    for (let k = 0; k < moves.length; k++) this.arena[at + 1 + k] = moves[k]!;
    return at;
  }
}
