/**
 * The visited set shared by the worker threads of one stateful search (`check --workers N`,
 * parallel.ts): 64-bit state hashes in a fixed-size open-addressed table in a
 * SharedArrayBuffer, inserted lock-free (Atomics.compareExchange on one 64-bit word; linear
 * probing). Two threads that meet the same state both try to claim its slot, and exactly one
 * gets it, so each state is explored by one thread. The table cannot grow while threads use it:
 * it is sized from the memory budget, and a search that fills it to 90% stops as inconclusive.
 *
 * The hash (0, 0) marks an empty slot, so a state hashing to it is stored as (0, 1) (as in
 * visited.ts).
 */

/** Slots: a power of two. Cells: [0] = states stored. */
export interface SharedVisitedData {
  readonly slots: SharedArrayBuffer;
  readonly count: SharedArrayBuffer;
}

export const MAX_FILL = 0.9;

export function makeSharedVisited(bytes: number): SharedVisitedData {
  let slots = 1024;
  while (slots * 2 * 8 <= bytes && slots < 2 ** 28) slots *= 2;
  return { slots: new SharedArrayBuffer(slots * 8), count: new SharedArrayBuffer(8) };
}

export class SharedVisited {
  private readonly keys: BigInt64Array;
  private readonly counter: Int32Array;
  private readonly mask: number;
  readonly limit: number;

  constructor(data: SharedVisitedData) {
    this.keys = new BigInt64Array(data.slots);
    this.counter = new Int32Array(data.count);
    this.mask = this.keys.length - 1;
    this.limit = Math.floor(this.keys.length * MAX_FILL);
  }

  /** States stored by all threads. */
  get size(): number {
    return Atomics.load(this.counter, 0);
  }

  get bytes(): number {
    return this.keys.byteLength;
  }

  get full(): boolean {
    return this.size >= this.limit;
  }

  /** Claim the state with hash (h[at], h[at + 1]); true when this thread stored it first. */
  testAndSet(h: Uint32Array, at = 0): boolean {
    const hi = h[at]!;
    const lo = hi === 0 && h[at + 1] === 0 ? 1 : h[at + 1]!;
    const key = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    let i = (Math.imul(hi ^ lo, 0x9e3779b1) >>> 0) & this.mask;
    for (let probes = 0; probes <= this.mask; probes++) {
      const old = Atomics.compareExchange(this.keys, i, 0n, key);
      if (old === 0n) {
        Atomics.add(this.counter, 0, 1);
        return true;
      }
      if (old === key) return false;
      i = (i + 1) & this.mask;
    }
    throw new Error('[tlbcheck bug] shared visited table overfull');
  }
}
