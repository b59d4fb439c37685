/**
 * A two-lane 32-bit hash over a stream of integers, giving a 53-bit fingerprint that fits a
 * JavaScript number exactly. Lane one is a MurmurHash3 block step, lane two an FNV-1a/xorshift
 * mix, so one weak lane does not make the pair weak.
 */
/** The hash of every string hashed so far (`Hasher.addString`). */
const STRINGS = new Map<string, readonly [number, number]>();

export class Hasher {
  private a = 0x9747b28c;
  private b = 0x811c9dc5;

  clone(): Hasher {
    const h = new Hasher();
    h.a = this.a;
    h.b = this.b;
    return h;
  }

  add(x: number): void {
    let k = Math.imul(x | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    let a = this.a ^ k;
    a = (a << 13) | (a >>> 19);
    this.a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let b = Math.imul(this.b ^ (x | 0), 0x01000193);
    b ^= b >>> 15;
    this.b = Math.imul(b, 0x2c1b3c6d) ^ (x >>> 16);
  }

  /**
   * Add string `s` as two words: its own 64-bit hash, computed once per distinct string and
   * kept (the strings hashed are names and cross-call descriptions, a few hundred at most).
   */
  addString(s: string): void {
    let k = STRINGS.get(s);
    if (k === undefined) {
      const h = new Hasher();
      for (let i = 0; i < s.length; i++) h.add(s.charCodeAt(i));
      h.add(s.length);
      k = [h.a, h.b];
      STRINGS.set(s, k);
    }
    this.add(k[0]);
    this.add(k[1]);
  }

  /**
   * The full 64-bit hash as two 32-bit words (out[at] = lane one, out[at + 1] = lane two, both
   * finalized); `key()` is its top 53 bits. The visited table stores these (hash compaction).
   */
  key64(out: Uint32Array, at = 0): void {
    let a = this.a;
    a ^= a >>> 16;
    a = Math.imul(a, 0x85ebca6b);
    a ^= a >>> 13;
    let b = this.b;
    b ^= b >>> 16;
    b = Math.imul(b, 0xc2b2ae35);
    b ^= b >>> 16;
    out[at] = a >>> 0;
    out[at + 1] = b >>> 0;
  }

  /** 53-bit fingerprint. */
  key(): number {
    let a = this.a;
    a ^= a >>> 16;
    a = Math.imul(a, 0x85ebca6b);
    a ^= a >>> 13;
    let b = this.b;
    b ^= b >>> 16;
    b = Math.imul(b, 0xc2b2ae35);
    b ^= b >>> 16;
    return (a >>> 0) * 2097152 + (b >>> 11);
  }
}

/**
 * Probability that some two of `n` distinct states share a `bits`-bit fingerprint (the birthday
 * bound n^2 / 2^(bits+1)), as TLC prints it. The stateful searches store 64-bit hashes
 * (visited.ts); 53 bits is the `key()` of other callers.
 */
export function collisionProbability(n: number, bits = 53): number {
  return Math.min(1, (n * n) / 2 ** (bits + 1));
}
