/**
 * Checker-side bookkeeping (ghost state): which flushes have returned and what they covered,
 * which per-mm state updates have returned, which user thread runs where. Only the engine
 * updates it, from ghost effects; invariants read it.
 */
import type { CpuId, Loc, MmId } from '../machine/types.ts';

export interface Covered {
  readonly va: number;
  /** The upper entry for `va` in the flushed mm's tree and the latest write to it the flusher saw. */
  readonly upperLoc: Loc;
  readonly upperWid: number;
  /** The leaf entry, when the upper entry was present in the flusher's view. */
  readonly leafLoc?: Loc;
  readonly leafWid?: number;
}

export interface FlushRecord {
  readonly cpu: CpuId;
  readonly mm: MmId;
  readonly start: number;
  readonly end: number;
  readonly kernel: boolean;
  readonly covered: readonly Covered[];
  readonly beganAt: number;
  /** Step at which the flush returned to its caller, or -1 while it runs. */
  readonly returnedAt: number;
}

export interface PasidRecord {
  readonly cpu: CpuId;
  readonly mm: MmId;
  readonly val: number;
  readonly returnedAt: number;
}

export class Ghost {
  readonly flushes: FlushRecord[] = [];
  readonly pasid: PasidRecord[] = [];
  /** mm of the user thread running on each CPU, or -1. */
  readonly userMm: number[];

  constructor(cpus: number) {
    this.userMm = new Array<number>(cpus).fill(-1);
  }

  clone(): Ghost {
    // Records are immutable (a change replaces the record), so the copies share them.
    const g = new Ghost(this.userMm.length);
    for (const f of this.flushes) g.flushes.push(f);
    for (const p of this.pasid) g.pasid.push(p);
    for (let c = 0; c < this.userMm.length; c++) g.userMm[c] = this.userMm[c]!;
    return g;
  }

  /** What decides the invariants' future verdicts (not the step numbers). */
  hashInto(h: { add(x: number): void }): void {
    for (const f of this.flushes) {
      h.add(f.cpu * 65536 + f.mm * 2 + (f.returnedAt >= 0 ? 1 : 0));
      h.add(f.start);
      h.add(f.end);
      for (const c of f.covered) {
        h.add(c.upperLoc);
        h.add(c.upperWid);
        h.add(c.leafLoc ?? -1);
        h.add(c.leafWid ?? -1);
      }
    }
    for (const p of this.pasid) h.add(p.mm * 65536 + p.val * 2 + (p.returnedAt >= 0 ? 1 : 0));
    for (const u of this.userMm) h.add(u);
  }
}
