/**
 * What a move touched, as partial-order reduction needs it: the resources (from the
 * `Machine.fp` encoding, resource * 2 + written), sorted, one entry per resource with its
 * write bit OR-ed over every access. Two moves are independent when no resource is written by
 * one and touched by the other.
 */
export type Footprint = readonly number[];

export function footprintMap(fp: readonly number[]): Footprint {
  // Footprints hold a handful of entries: insertion sort into a plain array is the fastest.
  const a: number[] = [];
  for (const x of fp) {
    const r = x >>> 1;
    let i = a.length - 1;
    while (i >= 0 && a[i]! >>> 1 > r) i--;
    if (i >= 0 && a[i]! >>> 1 === r) a[i] = a[i]! | (x & 1);
    else a.splice(i + 1, 0, x);
  }
  return a;
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
