/**
 * The visited set of the stateful searches: hash compaction (Wolper and Leroy, "Reliable
 * hashing without collision detection", CAV 1993). A state is stored as its 64-bit hash only
 * (`Sim.fingerprint(extra, out)`), in an open-addressed table of typed arrays with linear
 * probing, plus one small integer per state (the stateful DFS stores the id of the sleep set a
 * state was explored with, see sleep-pool.ts). Two distinct states with the same 64-bit hash
 * would be merged and one of them missed: `collisionProbability(n, 64)` bounds that, and every
 * verdict prints it.
 *
 * Layout: 8 bytes of hash per slot, plus 1, 2 or 4 bytes of value (widened when a larger value
 * is stored; none for a table without values). The table index comes from the first hash word
 * by multiply-shift range reduction, so the capacity need not be a power of two: it grows by
 * a quarter when 80% full, which keeps it between 64% and 80% full, i.e. 11.3-14.1 bytes per
 * state with one-byte values, 12.5-15.6 with two-byte ones (more than 255 distinct sleep sets),
 * 10-12.5 without. Each growth rehashes every state; growing by a quarter does that about four
 * times per state in all, against twice when growing by half, for 2.5-3.1 bytes per state less
 * at the fullest point.
 *
 * The hash (0, 0) marks an empty slot, so a state hashing to it is stored as (0, 1): one more
 * way for two states to meet, inside the same bound.
 */

const MAX_LOAD = 0.8;
const GROWTH = 1.25;
const INITIAL = 1024;

type Values = Uint8Array | Uint16Array | Uint32Array;

export class VisitedTable {
  private cap: number;
  private keys: Uint32Array;
  private vals: Values | undefined;
  private limit: number;
  /** Distinct states stored. */
  size = 0;

  constructor(readonly withValues: boolean, capacity = INITIAL) {
    this.cap = Math.max(16, capacity);
    this.keys = new Uint32Array(2 * this.cap);
    this.vals = withValues ? new Uint8Array(this.cap) : undefined;
    this.limit = Math.floor(this.cap * MAX_LOAD);
  }

  /** Bytes held by the table (its typed arrays). */
  get bytes(): number {
    return this.keys.byteLength + (this.vals?.byteLength ?? 0);
  }

  /**
   * The slot of hash (h[at], h[at + 1]) if it is stored (>= 0); otherwise it is stored now with
   * `value`, and the result is ~slot (< 0).
   */
  findOrInsert(h: Uint32Array, value = 0, at = 0): number {
    const hi = h[at]!;
    const lo = hi === 0 && h[at + 1] === 0 ? 1 : h[at + 1]!;
    if (this.size >= this.limit) this.grow();
    const keys = this.keys;
    const cap = this.cap;
    let i = slotOf(hi, cap);
    for (;;) {
      const k0 = keys[2 * i]!;
      const k1 = keys[2 * i + 1]!;
      if (k0 === 0 && k1 === 0) break;
      if (k0 === hi && k1 === lo) return i;
      if (++i === cap) i = 0;
    }
    keys[2 * i] = hi;
    keys[2 * i + 1] = lo;
    this.size++;
    if (value !== 0) this.setValue(i, value);
    return ~i;
  }

  /** Whether the hash is stored (does not insert). */
  has(h: Uint32Array, at = 0): boolean {
    const hi = h[at]!;
    const lo = hi === 0 && h[at + 1] === 0 ? 1 : h[at + 1]!;
    const keys = this.keys;
    let i = slotOf(hi, this.cap);
    for (;;) {
      const k0 = keys[2 * i]!;
      const k1 = keys[2 * i + 1]!;
      if (k0 === 0 && k1 === 0) return false;
      if (k0 === hi && k1 === lo) return true;
      if (++i === this.cap) i = 0;
    }
  }

  value(slot: number): number {
    return this.vals?.[slot] ?? 0;
  }

  setValue(slot: number, v: number): void {
    if (!this.vals) throw new Error('[tlbcheck bug] a value stored in a visited table without values');
    if (v > maxOf(this.vals)) this.vals = widen(this.vals, v);
    this.vals[slot] = v;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const oldCap = this.cap;
    this.cap = Math.ceil(oldCap * GROWTH);
    this.limit = Math.floor(this.cap * MAX_LOAD);
    this.keys = new Uint32Array(2 * this.cap);
    this.vals = oldVals ? new (oldVals.constructor as new (n: number) => Values)(this.cap) : undefined;
    const keys = this.keys;
    for (let j = 0; j < oldCap; j++) {
      const k0 = oldKeys[2 * j]!;
      const k1 = oldKeys[2 * j + 1]!;
      if (k0 === 0 && k1 === 0) continue;
      let i = slotOf(k0, this.cap);
      while (keys[2 * i] !== 0 || keys[2 * i + 1] !== 0) if (++i === this.cap) i = 0;
      keys[2 * i] = k0;
      keys[2 * i + 1] = k1;
      if (oldVals && this.vals) this.vals[i] = oldVals[j]!;
    }
  }
}

/** Multiply-shift range reduction of a 32-bit word onto 0..cap-1. */
function slotOf(w: number, cap: number): number {
  const i = Math.floor((w * cap) / 4294967296);
  return i < cap ? i : cap - 1;
}

const maxOf = (a: Values): number => (a instanceof Uint8Array ? 0xff : a instanceof Uint16Array ? 0xffff : 0xffffffff);

function widen(a: Values, v: number): Values {
  const b = v <= 0xffff ? new Uint16Array(a.length) : new Uint32Array(a.length);
  b.set(a);
  return b;
}
