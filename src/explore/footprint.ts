/**
 * What a move touched, as partial-order reduction needs it: the resources (from the
 * `Machine.fp` encoding, resource * 2 + written), sorted, one entry per resource with its
 * write bit OR-ed over every access. Two moves are independent when no resource is written by
 * one and touched by the other.
 */
export type Footprint = Int32Array;

export function footprintMap(fp: readonly number[]): Footprint {
  const a = Int32Array.from(fp).sort();
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (n > 0 && a[n - 1]! >>> 1 === x >>> 1) a[n - 1] = a[n - 1]! | (x & 1);
    else a[n++] = x;
  }
  return a.subarray(0, n);
}

export function independent(a: Footprint, b: Footprint): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const rx = x >>> 1;
    const ry = y >>> 1;
    if (rx < ry) i++;
    else if (ry < rx) j++;
    else {
      if (((x | y) & 1) !== 0) return false;
      i++;
      j++;
    }
  }
  return true;
}
