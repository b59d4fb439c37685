/**
 * The budgets every search honours, checked in one place: wall-clock time, distinct states,
 * heap memory, executions, and a stop request (Ctrl-C). Reaching one ends the search as
 * inconclusive with the coverage reached, never as "holds"; the heap limit of the process is
 * never what stops a search, because the memory budget is checked well below it.
 *
 * Strategies call `exceeded` every few hundred transitions; it costs a clock read and, for the
 * memory budget, one heap-statistics call. The memory counted is the heap plus the typed
 * arrays outside it (the visited set).
 */
import { getHeapStatistics } from 'node:v8';
import { stopRequested } from './heartbeat.ts';

export type StopKind = 'time' | 'states' | 'memory' | 'executions' | 'interrupted';

export interface Stop {
  readonly kind: StopKind;
  readonly reason: string;
}

export interface Limits {
  readonly timeMs?: number;
  readonly maxStates?: number;
  /** Heap in use (MiB) at which the search stops. */
  readonly maxMemoryMb?: number;
  readonly maxExecutions?: number;
}

/**
 * Heap in use plus memory outside the heap held by JavaScript objects: the visited set's typed
 * arrays (visited.ts, bitstate.ts) live there, not in the heap.
 */
export function memoryInUse(): number {
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}

export class Budget {
  private readonly t0 = Date.now();
  /** The memory budget in bytes: the one asked for, but never above 80% of this heap's limit. */
  private readonly heapBytes: number | undefined;
  constructor(private readonly limits: Limits) {
    const cap = 0.8 * getHeapStatistics().heap_size_limit;
    this.heapBytes = limits.maxMemoryMb === undefined ? undefined : Math.min(limits.maxMemoryMb * 1048576, cap);
  }

  /** The first budget that has run out, given the search's counts so far. */
  exceeded(states: number, executions = 0): Stop | undefined {
    const l = this.limits;
    if (stopRequested()) return { kind: 'interrupted', reason: 'interrupted' };
    if (l.timeMs !== undefined && Date.now() - this.t0 > l.timeMs) return { kind: 'time', reason: `time budget of ${l.timeMs / 1000} s ran out` };
    if (l.maxStates !== undefined && states >= l.maxStates) return { kind: 'states', reason: `state budget of ${l.maxStates} ran out` };
    if (l.maxExecutions !== undefined && executions >= l.maxExecutions) return { kind: 'executions', reason: `execution budget of ${l.maxExecutions} ran out` };
    if (this.heapBytes !== undefined && memoryInUse() > this.heapBytes) {
      return { kind: 'memory', reason: `memory budget of ${Math.round(this.heapBytes / 1048576)} MB ran out` };
    }
    return undefined;
  }
}
