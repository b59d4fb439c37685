/**
 * What a move touched, as partial-order reduction needs it: resource -> 1 if written, 0 if
 * only read (from the `Machine.fp` encoding, resource * 2 + written). Two moves are
 * independent when no resource is written by one and touched by the other.
 */
export type Footprint = ReadonlyMap<number, number>;

export function footprintMap(fp: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const x of fp) {
    const r = x >>> 1;
    m.set(r, (m.get(r) ?? 0) | (x & 1));
  }
  return m;
}

export function independent(a: Footprint, b: Footprint): boolean {
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  for (const [r, w] of small) {
    const o = big.get(r);
    if (o !== undefined && (w | o) !== 0) return false;
  }
  return true;
}
