/**
 * The body of a gate worker thread (started through bin/gate-worker.js, which registers tsx
 * first). It runs the jobs the pool sends, one at a time, and posts back progress, results and
 * errors as plain data. The engine's heartbeat writes to the cells the pool watches (see
 * src/explore/heartbeat.ts). It never prints.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../errors.ts';
import { HEARTBEAT } from '../explore/heartbeat.ts';
import { resolveVariant } from '../kernel/load.ts';
import type { Variant } from '../kernel/variant.ts';
import { type JobSpec, runJob } from './job.ts';
import type { ToWorker, FromWorker } from './pool.ts';

const port = parentPort;
if (!port) throw new Error('[tlbcheck bug] gate worker started outside a worker thread');
HEARTBEAT.cells = new Int32Array((workerData as { beat: SharedArrayBuffer }).beat);
HEARTBEAT.on = true;
HEARTBEAT.onName = (id, name) => port.postMessage({ type: 'name', id, name } satisfies FromWorker);
const variants = new Map<string, Variant>();

async function variantOf(spec: string): Promise<Variant> {
  const known = variants.get(spec);
  if (known) return known;
  const { variant } = await resolveVariant(spec);
  variants.set(spec, variant);
  return variant;
}

async function handle(job: JobSpec): Promise<FromWorker> {
  try {
    const variant = await variantOf(job.spec);
    port!.postMessage({ type: 'started', index: job.index } satisfies FromWorker);
    const result = runJob(job, variant, (e) => port!.postMessage({ type: 'progress', e } satisfies FromWorker));
    return { type: 'done', index: job.index, result };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { type: 'error', index: job.index, message, user: e instanceof UserError };
  }
}

port.on('message', (m: ToWorker) => {
  void handle(m.job).then((reply) => port.postMessage(reply));
});
