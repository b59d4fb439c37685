/**
 * `--shard I/N`: a deterministic slice of the gate's rows, so that N CI jobs cover the manifest
 * exactly once. Rows are dealt largest first (by pinned or recorded states) to the shard with
 * the least work so far, ties to the lower shard and the earlier row: every job computes the
 * same assignment from the same manifest. Each shard keeps the manifest order.
 */

export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parse `I/N` with 1 <= I <= N; undefined when malformed. */
export function parseShard(s: string): Shard | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  if (!m) return undefined;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return count >= 1 && index >= 1 && index <= count ? { index, count } : undefined;
}

/** Shard number (1-based) of each row. */
export function assignShards(costs: readonly number[], count: number): number[] {
  const order = costs.map((c, i) => ({ c, i })).sort((a, b) => b.c - a.c || a.i - b.i);
  const load = new Array<number>(count).fill(0);
  const out = new Array<number>(costs.length).fill(1);
  for (const { c, i } of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s;
    load[best]! += Math.max(c, 1);
    out[i] = best + 1;
  }
  return out;
}

export function shardRows<T extends { readonly cost: number }>(rows: readonly T[], shard: Shard | undefined): T[] {
  if (!shard) return [...rows];
  const owner = assignShards(rows.map((r) => r.cost), shard.count);
  return rows.filter((_, i) => owner[i] === shard.index);
}
