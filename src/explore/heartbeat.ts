/**
 * The engine's heartbeat, for a watchdog in another thread. When a search runs in a worker
 * thread (src/cli/supervise.ts), the worker points `HEARTBEAT.cells` at a SharedArrayBuffer and
 * every step writes: the number of steps begun, the step's CPU, and the id of the kernel
 * function its routine was in. A routine that loops without yielding an effect stops the count;
 * the main thread sees that, terminates the worker, and names the function from these cells.
 *
 * Off (the default, and in tests that call the engine directly) it costs one branch per step.
 */

/** Indices into `HEARTBEAT.cells`. */
export const BEAT_STEPS = 0;
export const BEAT_CPU = 1;
export const BEAT_FN = 2;
export const BEAT_STEP = 3;
/** Set by the main thread: stop the search at the next check and report what was covered. */
export const BEAT_STOP = 4;
export const BEAT_CELLS = 5;

export interface Heartbeat {
  on: boolean;
  cells: Int32Array;
  /** Ids of function names written to BEAT_FN; `onName` tells the watchdog each new one. */
  readonly names: Map<string, number>;
  onName: ((id: number, name: string) => void) | undefined;
}

export const HEARTBEAT: Heartbeat = { on: false, cells: new Int32Array(BEAT_CELLS), names: new Map(), onName: undefined };

/** Record that step `step` begins on `cpu` in function `fn` (only when a watchdog listens). */
export function beat(cpu: number, fn: string, step: number): void {
  const h = HEARTBEAT;
  let id = h.names.get(fn);
  if (id === undefined) {
    id = h.names.size;
    h.names.set(fn, id);
    h.onName?.(id, fn);
  }
  const c = h.cells;
  c[BEAT_STEPS] = (c[BEAT_STEPS]! + 1) | 0;
  c[BEAT_CPU] = cpu;
  c[BEAT_FN] = id;
  c[BEAT_STEP] = step;
}

/** Whether the main thread asked the search to stop (Ctrl-C). */
export const stopRequested = (): boolean => HEARTBEAT.on && HEARTBEAT.cells[BEAT_STOP] !== 0;
