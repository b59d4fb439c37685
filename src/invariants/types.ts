/**
 * What an invariant is, and what a broken one reports. A violation is data, never an
 * exception.
 */
import type { Machine, Observation } from '../machine/machine.ts';
import type { CpuId } from '../machine/types.ts';
import type { Ghost } from './ghost.ts';
import type { Layout } from '../kernel/layout.ts';

export interface Invariant {
  readonly id: string;
  /** The property, in one sentence. */
  readonly title: string;
  /** The kernel text or rule it encodes. */
  readonly encodes: string;
  /** Where it holds, and where it deliberately does not. */
  readonly scope: string;
  /**
   * A state invariant: the machine observations it judges, and the check the monitor runs on
   * each of them (monitor.ts). The engine's own invariants (assertions, deadlock, the step
   * limit) have none.
   */
  readonly observes?: readonly Observation['o'][];
  check?(o: Observation, cx: MonitorCtx): Violation | undefined;
  /**
   * The check reads the observation alone (and `cx`'s names), never the ghost or machine
   * state: it gives the same answer before the step that observes it changes anything. Deferral
   * (explore/stateful.ts) then judges a speculative walk without taking it.
   */
  readonly observationOnly?: true;
}

/** What a state invariant's check may read: the step's ghost and machine state, read-only. */
export interface MonitorCtx {
  readonly layout: Layout;
  readonly ghost: Ghost;
  readonly m: Machine;
  readonly step: number;
  /** The scenario's name of mm `mm` (bound: may be passed on as a function). */
  readonly mmName: (mm: number) => string;
  /** Whether `pfn` is a root (pgd or user pgd) of mm `mm` (bound). */
  readonly isRootOf: (mm: number, pfn: number) => boolean;
}

export interface Violation {
  readonly invariant: string;
  readonly message: string;
  readonly cpu?: CpuId;
  /** Execution step at which it was detected. */
  readonly step: number;
  /** Step at which the offending TLB/PSC entry was filled, when there is one (0: at boot). */
  readonly filledAt?: number;
  /**
   * The facts behind the message, as data for the explainer (report/explain): the mm and
   * address concerned, and the CPU whose flush or update had returned, and when.
   */
  readonly mm?: number;
  readonly va?: number;
  readonly by?: CpuId;
  readonly returnedAt?: number;
  /** The table page a bad walk read (no-walk-through-freed-table). */
  readonly pfn?: number;
  /** The bad walk was a software walker's (GUP-fast), not the hardware walker's. */
  readonly software?: true;
  /** A variant's declared invariant: its C predicate and what it read (loc -1: the machine or the ghost, described by `what`). */
  readonly declared?: { readonly fn: string; readonly reads: readonly { readonly loc: number; readonly val: number; readonly what?: string }[] };
}
