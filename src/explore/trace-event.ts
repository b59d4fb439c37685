/** One event of an execution's trace: who moved, in which kernel function, what it did (text and data). */
import type { CpuId } from '../machine/types.ts';
import type { EventData } from './event-data.ts';

export type Actor = 'cpu' | 'irq' | 'ipi' | 'drain' | 'bcast' | 'walk' | 'evict' | 'end' | 'ghost' | 'sched' | 'nmi';

export interface TraceEvent {
  readonly step: number;
  readonly cpu: CpuId;
  readonly actor: Actor;
  /** Innermost kernel function the CPU is in. */
  readonly fn: string;
  /** Display only: not covered by the trace digest of a schema-3 or 4 file. */
  readonly text: string;
  /** Ordering tag of the effect, e.g. `(1)`. */
  readonly tag?: string;
  /** Position on the choice tape when this step was a branch point. */
  readonly branch?: number;
  /**
   * What the step did, as data (event-data.ts). Its canonical form (display strings and
   * location numbers dropped, every location named by what it is) is what the trace digest
   * covers and what a counterexample file (schema 4) stores.
   */
  readonly data?: EventData;
}
