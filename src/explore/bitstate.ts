/**
 * Bitstate hashing (supertrace; Holzmann, "An analysis of bitstate hashing", FMSD 13(3), 1998):
 * the visited set as an array of 2^b bits, a state marked by k = 3 bits, each a different mix
 * (MurmurHash3's finalizer) of both words of its 64-bit hash. A state whose k bits are all set already is
 * taken as visited, so a state that only collides with others is never explored: a search in
 * this mode can miss states, and its verdict is never "holds" (check.ts). What it buys is a
 * state space far beyond memory, at 2^b / 8 bytes in all.
 *
 * `coverage()` estimates the fraction of the states met that were not lost this way: after i
 * states the fraction of bits set is about 1 - e^(-k i / m), so the (i+1)-th new state is
 * mistaken for a visited one with probability (1 - e^(-k i / m))^k; the mean of that over the
 * n states stored is the expected loss (Holzmann's estimate, integrated numerically here).
 */

export const BITSTATE_K = 3;
export const BITSTATE_MIN = 10;
export const BITSTATE_MAX = 34;

export class BitstateTable {
  private readonly words: Uint32Array;
  /** States newly marked (some bit was still clear). */
  size = 0;

  constructor(readonly log2bits: number) {
    if (!(Number.isInteger(log2bits) && log2bits >= BITSTATE_MIN && log2bits <= BITSTATE_MAX)) {
      throw new Error(`[tlbcheck bug] bitstate size 2^${log2bits} bits out of ${BITSTATE_MIN}..${BITSTATE_MAX}`);
    }
    this.words = new Uint32Array(2 ** (log2bits - 5));
  }

  get bits(): number {
    return 2 ** this.log2bits;
  }

  get bytes(): number {
    return this.words.byteLength;
  }

  /** Mark the state with hash (h[at], h[at + 1]); true when it was new (some bit was clear). */
  testAndSet(h: Uint32Array, at = 0): boolean {
    const a = h[at]!;
    const b = h[at + 1]!;
    const high = this.log2bits > 32 ? this.log2bits - 32 : 0;
    const lowBits = this.log2bits - high;
    let fresh = false;
    for (let i = 0; i < BITSTATE_K; i++) {
      // Bit i of the state: a mix of both hash words, different for each i.
      const low = fmix32(a ^ Math.imul(b, 2 * i + 1) ^ Math.imul(i, 0x9e3779b9)) >>> (32 - lowBits);
      const up = high === 0 ? 0 : fmix32(b ^ Math.imul(a, 2 * i + 1) ^ 0x85ebca6b) >>> (32 - high);
      const bit = up * 4294967296 + low;
      const w = Math.floor(bit / 32);
      const mask = 1 << (bit % 32);
      const old = this.words[w]!;
      if ((old & mask) === 0) {
        fresh = true;
        this.words[w] = old | mask;
      }
    }
    if (fresh) this.size++;
    return fresh;
  }

  /** Estimated fraction of the states met that were explored (not lost to a full set of bits). */
  coverage(): number {
    return bitstateCoverage(this.size, this.bits, BITSTATE_K);
  }
}

/** Holzmann's coverage estimate for n states in m bits with k bits per state. */
export function bitstateCoverage(n: number, m: number, k: number): number {
  if (n <= 0) return 1;
  const samples = 256;
  let lost = 0;
  for (let s = 0; s < samples; s++) {
    const i = ((s + 0.5) / samples) * n;
    lost += (1 - Math.exp((-k * i) / m)) ** k;
  }
  return Math.max(0, 1 - lost / samples);
}

/** MurmurHash3's 32-bit finalizer. */
function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
