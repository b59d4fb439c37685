/**
 * Per-CPU translation caches: the TLB (final translations) and the paging-structure cache
 * (cached upper entries, SDM 4.10.3). Both are tagged by PCID. Each entry carries a ghost
 * *fill record*: which memory words the walk read, and which write produced each value, so
 * the invariants can tell an entry "older than the change" from a fresh one.
 */
import type { Loc, Pfn } from './types.ts';

export interface FillRecord {
  /** Upper entry the walk used, and the id of the write that produced its value. */
  readonly upperLoc: Loc;
  readonly upperWid: number;
  /** Leaf entry, likewise. */
  readonly leafLoc: Loc;
  readonly leafWid: number;
  /** Execution step at which the entry was filled (for the timeline). */
  readonly step: number;
}

export interface TlbEntry {
  readonly pcid: number;
  readonly vpn: number;
  readonly pfn: Pfn;
  readonly global: boolean;
  /** R/W and D of the leaf entry when it was cached: a write needs both, else it re-walks. */
  readonly writable: boolean;
  readonly dirty: boolean;
  readonly rec: FillRecord;
  /**
   * Ghost: the generation of page `pfn` when the entry was filled (Machine.pageGen). A use
   * through an entry whose page has been freed or reused since is a use-after-free.
   */
  readonly gen: number;
  /**
   * Ghost: the generation of the mm slot whose tree the walk was in when the entry was filled
   * (Machine.mmGen): an entry of an mm since freed, or of an earlier mm at the same address.
   */
  readonly mmGen: number;
}

export interface PscEntry {
  readonly pcid: number;
  /** Upper-table index the entry covers (the linear-address bits above the leaf table). */
  readonly ui: number;
  readonly leafPfn: Pfn;
  readonly loc: Loc;
  readonly wid: number;
  readonly step: number;
}

export function tlbLookup(tlb: readonly TlbEntry[], pcid: number, vpn: number, pge: boolean): TlbEntry | undefined {
  for (const e of tlb) {
    if (e.vpn === vpn && (e.pcid === pcid || (pge && e.global))) return e;
  }
  return undefined;
}

/**
 * A walk that found `vpn` not present in `pcid` (SDM §4.10.2.3 allows such walks at any time,
 * speculatively). Never a TLB entry (the TLB caches present translations only), but an access
 * may still use it until the CPU's next serializing instruction: see `Machine.early`.
 */
export interface EarlyWalk {
  readonly pcid: number;
  readonly vpn: number;
  readonly step: number;
}

export function pscLookup(psc: readonly PscEntry[], pcid: number, ui: number): PscEntry | undefined {
  for (const e of psc) if (e.pcid === pcid && e.ui === ui) return e;
  return undefined;
}

/** Insert `e`, replacing the entry with the same tag (PCID, vpn). */
export function tlbFill(tlb: TlbEntry[], e: TlbEntry): void {
  for (let i = 0; i < tlb.length; i++) {
    const o = tlb[i]!;
    if (o.vpn === e.vpn && o.pcid === e.pcid) {
      tlb[i] = e;
      return;
    }
  }
  tlb.push(e);
}

export function pscFill(psc: PscEntry[], e: PscEntry): void {
  for (let i = 0; i < psc.length; i++) {
    const o = psc[i]!;
    if (o.pcid === e.pcid && o.ui === e.ui) {
      psc[i] = e;
      return;
    }
  }
  psc.push(e);
}

/** Remove every entry matching `drop`, in place. */
export function dropWhere<T>(arr: T[], drop: (e: T) => boolean): void {
  let w = 0;
  for (let r = 0; r < arr.length; r++) {
    const e = arr[r]!;
    if (!drop(e)) arr[w++] = e;
  }
  arr.length = w;
}
