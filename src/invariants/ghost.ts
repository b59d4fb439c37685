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
  beganAt: number;
  /** Step at which the flush returned to its caller, or -1 while it runs. */
  returnedAt: number;
}

export interface PasidRecord {
  readonly cpu: CpuId;
  readonly mm: MmId;
  readonly val: number;
  returnedAt: number;
}

export class Ghost {
  readonly flushes: FlushRecord[] = [];
  readonly pasid: PasidRecord[] = [];
  /** mm of the user thread running on each CPU, or -1. */
  readonly userMm: number[];

  constructor(cpus: number) {
    this.userMm = new Array<number>(cpus).fill(-1);
  }
}
