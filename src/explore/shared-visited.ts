/**
 * The visited set shared by the worker threads of one stateful search (`check --workers N`,
 * parallel.ts): 64-bit state hashes in an open-addressed table in shared memory, inserted
 * lock-free (Atomics.compareExchange on one 64-bit word; linear probing). Two threads that meet
 * the same state both try to claim its slot, and exactly one gets it.
 *
 * The table grows while the threads use it, so a small search touches a small, dense table
 * and a large one is not stopped while memory remains. Its buffers are growable
 * SharedArrayBuffers (address space reserved up front, pages used only once grown), and it is
 * a list of segments: segment 0 has `first` slots, each later one as many as all before it, so
 * the capacity doubles. Entries never move, so a slot number stays valid while threads hold it
 * (a claimer stores its state's sleep set after the claim; a revisit reads and replaces it).
 * New states go into the newest segment; a lookup probes the newest segment, then the older
 * ones, which no longer change; a state not found anywhere is claimed in the newest.
 *
 * Growing takes a lock word that every table operation respects: a thread inside the table
 * marks its own `inflight` word, and a thread that sees the lock taken waits outside. The
 * thread that fills the newest segment to GROW_AT takes the lock, waits until no thread is
 * inside, adds the next segment, and publishes it (a new epoch: every thread re-reads the
 * sizes). So no insert into a segment overlaps the start of the next one, and a state is in at
 * most one segment: a state claimed in segment g was claimed before segment g+1 existed, and
 * any later lookup sees it there. A growth past the memory budget (the table's bytes after it,
 * plus this thread's heap, over the budget) is refused: the table is then full, and the search
 * stops as inconclusive (memory) at its next budget check, in the half of the newest segment
 * still free (at least 32 K slots with the default first segment, while each thread checks
 * every 1024 transitions). At most half full, a segment is cheap to probe for a state it lacks
 * (a new state is looked up in every segment before it is claimed).
 *
 * Each slot also keeps the sleep set its state was (last) explored with, as the sequential
 * table does (visited.ts, sleep-pool.ts), so a state met again with a smaller sleep set is
 * explored only for the moves that woke up (Godefroid's revisit rule) instead of being stored
 * again as a new (state, sleep set) pair. The sets live in a shared append-only arena of Int32
 * words (`[length, moves...]`, bump-allocated with Atomics.add, grown as it fills), each
 * distinct set once (an index by hash finds it; the index is rebuilt twice as large under the
 * same lock when half full: it holds arena offsets, which never move); a slot's value is
 *
 * - 0: claimed, its set not yet written (a reader waits the few instructions until it is);
 * - 1: the empty set (nothing was asleep: every move was explored);
 * - UNKNOWN: the arena (or its index) was full, so the set is not known (a revisit explores
 *   every move not asleep now, as a first visit would: more work, never a missed move);
 * - otherwise the arena offset of the set.
 *
 * A revisit replaces the value by compare-and-swap, so two threads that revisit one state at
 * once do not lose each other's update; exploring the moves that woke is the same work the
 * sequential search does.
 *
 * The hash (0, 0) marks an empty slot, so a state hashing to it is stored as (0, 1) (as in
 * visited.ts).
 */
import { memoryInUse } from './budget.ts';
import type { Move } from './strategy.ts';

/** A growable SharedArrayBuffer (ES2024: Node 20 has it; the TypeScript lib here does not declare it). */
export interface GrowableSab extends SharedArrayBuffer {
  readonly maxByteLength: number;
  grow(bytes: number): void;
}

const GrowableSab = SharedArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => GrowableSab;

export interface SharedVisitedData {
  /** 8 bytes of hash per slot. */
  readonly keys: GrowableSab;
  /** An Int32 value per slot (see above). */
  readonly vals: GrowableSab;
  /** Int32 words: [0] next free word, then `[length, moves...]` records. */
  readonly arena: GrowableSab;
  /** Int32 arena offsets by a hash of the set (0: empty); each distinct set once. */
  readonly sets: GrowableSab;
  /** Int32 control words (see the cells below). */
  readonly ctl: SharedArrayBuffer;
  /** Slots of segment 0 (a power of two). */
  readonly first: number;
  /** The most slots the table may reach (`first` times a power of two). */
  readonly maxSlots: number;
  /** The memory budget (bytes) a growth must stay within. */
  readonly budget: number;
}

/** The newest segment is grown past half full (when the budget refuses, the table is full). */
export const GROW_AT = 0.5;
/** The set index is rebuilt larger at half load; at its largest it is filled to this load. */
const MAX_FILL = 0.9;
const EMPTY_SET = 1;
const UNKNOWN = -1;
const GROW = -2;
/** What `look` saw in a slot. */
const EMPTY = 0;
const MINE = 1;
const OTHER = 2;
/** First arena word a record may use (0 is the bump pointer, 1 keeps offsets apart from EMPTY_SET). */
const ARENA_START = 2;
/** Default slots of segment 0: 768 KiB of keys and values. */
export const FIRST_SLOTS = 1 << 16;
/** A growable SharedArrayBuffer holds at most 4 GiB in Node 20: 2^29 hashes. */
const MAX_SLOTS = 2 ** 29;
const FIRST_SETS = 1 << 10;
const MAX_SETS = 1 << 22;

// Control cells.
/** 1 while a thread grows the table. */
const LOCK = 0;
/** Bumped by every growth; a thread re-reads the sizes when it changes. */
const EPOCH = 1;
/** Segments of the hash table. */
const GEN = 2;
/** 1 once a growth was refused. */
const FULL = 3;
/** Thread ids handed out (one per SharedVisited). */
const NEXT_ID = 4;
/** Entries of the set index, and the sets it holds. */
const SETS_N = 5;
const SETS_COUNT = 6;
/** [SEG_COUNT + g]: states stored in segment g. */
const SEG_COUNT = 32;
/** [INFLIGHT + 16 * id]: 1 while thread `id` is inside the table (each on a cache line of its own). */
const INFLIGHT = 64;
const MAX_THREADS = 256;


/**
 * A table that may grow to `budget` bytes (with this thread's heap) and starts with `first`
 * slots (a power of two, at least 16).
 */
export function makeSharedVisited(budget: number, first = FIRST_SLOTS): SharedVisitedData {
  if (first < 16 || (first & (first - 1)) !== 0) throw new Error(`[tlbcheck bug] first segment of ${first} slots`);
  let maxSlots = first;
  // 12 bytes per slot (hash and value); the arena and the set index are small beside them.
  while (maxSlots * 2 * 12 <= budget && maxSlots * 2 <= MAX_SLOTS) maxSlots *= 2;
  const growable = (bytes: number, max: number): GrowableSab => {
    const b = new GrowableSab(bytes, { maxByteLength: max });
    if (typeof b.grow !== 'function') throw new Error('[tlbcheck bug] this Node has no growable SharedArrayBuffer (Node 20 or later has)');
    return b;
  };
  const arenaMax = Math.max(1 << 16, Math.min(2 ** 30, maxSlots * 2));
  const arena = growable(1 << 12, arenaMax);
  new Int32Array(arena, 0, 1)[0] = ARENA_START;
  const ctl = new SharedArrayBuffer((INFLIGHT + 16 * MAX_THREADS) * 4);
  const c = new Int32Array(ctl);
  c[GEN] = 1;
  c[SETS_N] = FIRST_SETS;
  return {
    keys: growable(first * 8, maxSlots * 8),
    vals: growable(first * 4, maxSlots * 4),
    arena,
    sets: growable(FIRST_SETS * 4, MAX_SETS * 4),
    ctl,
    first,
    maxSlots,
    budget,
  };
}

const setHash = (moves: readonly number[] | Int32Array<ArrayBufferLike>): number => {
  let h = moves.length;
  for (const m of moves) h = (Math.imul(h ^ m, 0x9e3779b1) + 0x7f4a7c15) | 0;
  return (h ^ (h >>> 15)) >>> 0;
};

export class SharedVisited {
  private readonly ctl: Int32Array;
  /** This thread's inflight cell. */
  private readonly me: number;
  private epoch = -1;
  private gen = 0;
  private keys: BigInt64Array<ArrayBufferLike> = new BigInt64Array(0);
  /** Segment g: its first slot, and its size less one. */
  private bases: number[] = [];
  private masks: number[] = [];
  /** The same hashes as 32-bit halves (low word first). */
  private words: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private vals: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private sets: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private arena: Int32Array<ArrayBufferLike> = new Int32Array(0);

  constructor(private readonly data: SharedVisitedData) {
    this.ctl = new Int32Array(data.ctl);
    const id = Atomics.add(this.ctl, NEXT_ID, 1);
    if (id >= MAX_THREADS) throw new Error(`[tlbcheck bug] more than ${MAX_THREADS} users of one shared visited table`);
    this.me = INFLIGHT + 16 * id;
  }

  /** States stored by all threads. */
  get size(): number {
    let n = 0;
    const gen = Atomics.load(this.ctl, GEN);
    for (let g = 0; g < gen; g++) n += Atomics.load(this.ctl, SEG_COUNT + g);
    return n;
  }

  /** Bytes the table holds now (it grows). */
  get bytes(): number {
    return this.data.keys.byteLength + this.data.vals.byteLength + this.data.arena.byteLength + this.data.sets.byteLength;
  }

  /** Segments so far (1 until the first growth). */
  get segments(): number {
    return Atomics.load(this.ctl, GEN);
  }

  /** The memory budget refused a growth (the newest segment is filled to GROW_AT). */
  get full(): boolean {
    return Atomics.load(this.ctl, FULL) !== 0;
  }

  /** Arena words used by stored sleep sets. */
  get arenaWords(): number {
    return Math.min(Atomics.load(new Int32Array(this.data.arena, 0, 1), 0), this.data.arena.byteLength >> 2);
  }

  /**
   * The slot of hash (h[at], h[at + 1]): `~slot` (< 0) when this thread claimed it now (it must
   * then `store` the sleep set it explores the state with), else the slot (>= 0).
   */
  claim(h: Uint32Array, at = 0): number {
    const hi = h[at]! | 0;
    const lo = hi === 0 && h[at + 1] === 0 ? 1 : h[at + 1]! | 0;
    const x = Math.imul(hi ^ lo, 0x9e3779b1) >>> 0;
    this.enter();
    const g = this.gen - 1;
    const base = this.bases[g]!;
    const mask = this.masks[g]!;
    // The newest segment, read only up to the first empty slot...
    let j = x & mask;
    let probes = 0;
    for (;;) {
      const seen = this.look(base + j, hi, lo);
      if (seen === EMPTY) break;
      if (seen === MINE) return this.leave(base + j);
      j = (j + 1) & mask;
      if (++probes > mask) return this.overfull();
    }
    // ...then the older ones (newest first: they hold the most states), which no longer change...
    for (let s = g - 1; s >= 0; s--) {
      const f = this.find(s, hi, lo, x);
      if (f >= 0) return this.leave(f);
    }
    // ...and not found: claim it in the newest, from the empty slot seen (a slot once set never
    // empties, so another thread's claim of this state can only be at or after it).
    const key = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
    for (;;) {
      const old = Atomics.compareExchange(this.keys, base + j, 0n, key);
      if (old === 0n) break;
      if (old === key) return this.leave(base + j);
      j = (j + 1) & mask;
      if (++probes > mask) return this.overfull();
    }
    const n = Atomics.add(this.ctl, SEG_COUNT + g, 1) + 1;
    this.leave(0);
    if (n >= Math.floor((mask + 1) * GROW_AT) && Atomics.load(this.ctl, FULL) === 0) this.grow(g);
    return ~(base + j);
  }

  /**
   * Slot `i` of the newest segment, read as its two 32-bit halves (a BigInt read allocates):
   * EMPTY, MINE (the hash hi:lo) or OTHER. A slot is written whole by one 64-bit
   * compare-and-swap, but two half reads can straddle it: with both halves set, both were read
   * after it; with both clear, the slot is treated as empty and the claim's compare-and-swap
   * decides; with one clear (a half read before the write, or a hash with a zero half) it is
   * read again whole.
   */
  private look(i: number, hi: number, lo: number): number {
    const w = this.words;
    const l = Atomics.load(w, 2 * i);
    const h = Atomics.load(w, 2 * i + 1);
    if (l !== 0 && h !== 0) return l === lo && h === hi ? MINE : OTHER;
    if (l === 0 && h === 0) return EMPTY;
    const k = Atomics.load(this.keys, i);
    if (k === 0n) return EMPTY;
    return Number(BigInt.asIntN(32, k)) === lo && Number(BigInt.asIntN(32, k >> 32n)) === hi ? MINE : OTHER;
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
    const v = this.encode(asleep);
    Atomics.store(this.vals, slot, v);
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
    const a = this.arenaTo(v + 1);
    const n = a[v]!;
    return Array.from(this.arenaTo(v + 1 + n).subarray(v + 1, v + 1 + n));
  }

  /** Replace value `old` of `slot` by the set `asleep`; false when another thread changed it first. */
  replace(slot: number, old: number, asleep: readonly Move[]): boolean {
    const v = this.encode(asleep);
    return Atomics.compareExchange(this.vals, slot, old, v) === old;
  }

  /** Enter the table: wait while it grows, and take up its new sizes. */
  private enter(): void {
    const c = this.ctl;
    for (;;) {
      Atomics.store(c, this.me, 1);
      if (Atomics.load(c, LOCK) === 0) break;
      Atomics.store(c, this.me, 0);
      Atomics.wait(c, LOCK, 1, 50);
    }
    if (Atomics.load(c, EPOCH) !== this.epoch) this.refresh();
  }

  private leave(r: number): number {
    Atomics.store(this.ctl, this.me, 0);
    return r;
  }

  private overfull(): never {
    this.leave(0);
    throw new Error('[tlbcheck bug] shared visited table overfull');
  }

  /** Views of the current sizes (called inside the table, so nothing grows meanwhile). */
  private refresh(): void {
    const c = this.ctl;
    this.epoch = Atomics.load(c, EPOCH);
    this.gen = Atomics.load(c, GEN);
    const first = this.data.first;
    const slots = first * 2 ** (this.gen - 1);
    // Segment 0 has `first` slots; segment g > 0 as many as all before it.
    this.bases = Array.from({ length: this.gen }, (_, g) => (g === 0 ? 0 : first * 2 ** (g - 1)));
    this.masks = Array.from({ length: this.gen }, (_, g) => (g === 0 ? first : first * 2 ** (g - 1)) - 1);
    this.keys = new BigInt64Array(this.data.keys, 0, slots);
    this.words = new Int32Array(this.data.keys, 0, 2 * slots);
    this.vals = new Int32Array(this.data.vals, 0, slots);
    this.sets = new Int32Array(this.data.sets, 0, Atomics.load(c, SETS_N));
  }

  /** The slot of hash hi:lo in the (unchanging) segment g, or -1. */
  private find(g: number, hi: number, lo: number, x: number): number {
    const base = this.bases[g]!;
    const mask = this.masks[g]!;
    const w = this.words;
    let j = x & mask;
    for (let probes = 0; probes <= mask; probes++) {
      // Written before this segment was closed: its halves read whole.
      const l = w[2 * (base + j)]!;
      const h = w[2 * (base + j) + 1]!;
      if (l === lo && h === hi) return base + j;
      if (l === 0 && h === 0) return -1;
      j = (j + 1) & mask;
    }
    return -1;
  }

  /** Take the lock and wait until no other thread is inside the table; false when another thread holds it. */
  private lock(): boolean {
    const c = this.ctl;
    if (Atomics.compareExchange(c, LOCK, 0, 1) !== 0) return false;
    const users = Math.min(Atomics.load(c, NEXT_ID), MAX_THREADS);
    for (let id = 0; id < users; id++) {
      const cell = INFLIGHT + 16 * id;
      // A thread inside the table leaves it within a few probes.
      while (Atomics.load(c, cell) !== 0);
    }
    return true;
  }

  private unlock(grown: boolean): void {
    const c = this.ctl;
    if (grown) Atomics.add(c, EPOCH, 1);
    Atomics.store(c, LOCK, 0);
    Atomics.notify(c, LOCK);
  }

  /** Add the next segment when segment g is still the newest; refused past the budget. */
  private grow(g: number): void {
    if (!this.lock()) return;
    let grown = false;
    try {
      if (Atomics.load(this.ctl, GEN) !== g + 1) return;
      const slots = this.data.first * 2 ** (g + 1);
      const after = slots * 12 + this.data.arena.byteLength + this.data.sets.byteLength;
      if (slots > this.data.maxSlots || after + memoryInUse() > this.data.budget) {
        Atomics.store(this.ctl, FULL, 1);
        return;
      }
      this.data.keys.grow(slots * 8);
      this.data.vals.grow(slots * 4);
      Atomics.store(this.ctl, GEN, g + 2);
      grown = true;
    } finally {
      this.unlock(grown);
    }
  }

  /** Rebuild the set index twice as large when it still has `n` entries. */
  private growSets(n: number): void {
    if (!this.lock()) return;
    let grown = false;
    try {
      if (Atomics.load(this.ctl, SETS_N) !== n || n * 2 > MAX_SETS) return;
      const held = new Int32Array(this.data.sets, 0, n).filter((at) => at !== 0);
      this.data.sets.grow(n * 2 * 4);
      const index = new Int32Array(this.data.sets, 0, n * 2);
      index.fill(0);
      const mask = n * 2 - 1;
      for (const at of held) {
        const len = this.arenaTo(at + 1)[at]!;
        let i = setHash(this.arenaTo(at + 1 + len).subarray(at + 1, at + 1 + len)) & mask;
        while (index[i] !== 0) i = (i + 1) & mask;
        index[i] = at;
      }
      Atomics.store(this.ctl, SETS_N, n * 2);
      grown = true;
    } finally {
      this.unlock(grown);
    }
  }

  /**
   * The arena offset of the set `asleep`, stored once per distinct set (most states are met
   * with one of a few sets): looked up by hash in the index, appended and published by
   * compare-and-swap when new. A set that loses the race for its slot to an equal one uses
   * the winner's record (its own stays unused). UNKNOWN when the arena or the index is full.
   */
  private encode(asleep: readonly Move[]): number {
    if (asleep.length === 0) return EMPTY_SET;
    const moves = asleep.length === 1 ? asleep : [...asleep].sort((a, b) => a - b);
    const h = setHash(moves);
    for (;;) {
      this.enter();
      const n = this.sets.length;
      const r = this.index(moves, h);
      this.leave(0);
      if (r !== GROW) return r;
      this.growSets(n);
    }
  }

  private index(moves: readonly Move[], h: number): number {
    const sets = this.sets;
    const n = sets.length;
    let i = h & (n - 1);
    for (let probes = 0; probes < n; probes++) {
      const at = Atomics.load(sets, i);
      if (at === 0) {
        const count = Atomics.load(this.ctl, SETS_COUNT);
        if (count * 2 >= n && n < MAX_SETS) return GROW;
        if (count >= n * MAX_FILL) return UNKNOWN;
        const mine = this.append(moves);
        if (mine === UNKNOWN) return UNKNOWN;
        const won = Atomics.compareExchange(sets, i, 0, mine);
        if (won === 0) {
          Atomics.add(this.ctl, SETS_COUNT, 1);
          return mine;
        }
        if (this.same(won, moves)) return won;
      } else if (this.same(at, moves)) return at;
      i = (i + 1) & (n - 1);
    }
    return UNKNOWN;
  }

  private same(at: number, moves: readonly Move[]): boolean {
    const a = this.arenaTo(at + 1 + moves.length);
    if (a[at] !== moves.length) return false;
    for (let k = 0; k < moves.length; k++) if (a[at + 1 + k] !== moves[k]) return false;
    return true;
  }

  /** The arena view, covering at least `end` words (another thread may have grown it). */
  private arenaTo(end: number): Int32Array<ArrayBufferLike> {
    if (end > this.arena.length) this.arena = new Int32Array(this.data.arena, 0, this.data.arena.byteLength >> 2);
    return this.arena;
  }

  private append(moves: readonly Move[]): number {
    const need = moves.length + 1;
    const at = Atomics.add(this.arenaTo(1), 0, need);
    const end = at + need;
    const buf = this.data.arena;
    if (end * 4 > buf.maxByteLength) return UNKNOWN;
    while (buf.byteLength < end * 4) {
      const before = buf.byteLength;
      try {
        buf.grow(Math.min(buf.maxByteLength, Math.max(end * 4, before * 2)));
      } catch {
        // Another thread grew it first (a growable buffer never shrinks): look again. Refused
        // with no other growth (no memory): the set is not stored.
        if (buf.byteLength === before) return UNKNOWN;
      }
    }
    const a = this.arenaTo(end);
    a[at] = moves.length;
    for (let k = 0; k < moves.length; k++) a[at + 1 + k] = moves[k]!;
    return at;
  }
}
