/**
 * The worker side of `supervise` (supervise.ts): connects the engine's heartbeat to the shared
 * cells, runs one task, and posts its progress, its result or its error as plain data. It
 * never prints.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError, isInternal } from '../errors.ts';
import { HEARTBEAT } from '../explore/heartbeat.ts';
import type { FromTask } from './supervise.ts';

export interface TaskContext<P> {
  /** Call once loading is over and the search begins: the stall watchdog starts then. */
  started(): void;
  progress(p: P): void;
}

export function hostTask<D, P, R>(run: (data: D, ctx: TaskContext<P>) => Promise<R> | R): void {
  const port = parentPort;
  if (!port) throw new Error('[tlbcheck bug] a task worker started outside a worker thread');
  const wd = workerData as { data: D; beat: SharedArrayBuffer };
  HEARTBEAT.cells = new Int32Array(wd.beat);
  HEARTBEAT.on = true;
  HEARTBEAT.onName = (id, name) => port.postMessage({ type: 'name', id, name } satisfies FromTask<P, R>);
  const post = (m: FromTask<P, R>): void => port.postMessage(m);
  const ctx: TaskContext<P> = { started: () => post({ type: 'started' }), progress: (p) => post({ type: 'progress', p }) };
  void (async () => {
    try {
      post({ type: 'done', value: await run(wd.data, ctx) });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof UserError) post({ type: 'error', message, exitCode: e.exitCode, internal: false });
      else post({ type: 'error', message: isInternal(e) ? message : `[tlbcheck bug] ${message}`, exitCode: 70, internal: true });
    }
  })();
}
