/**
 * The body of a worker thread of `check --workers N`: rebuild the model from the check's
 * options (as check-task.ts does), run its share of the search (explore/parallel.ts) and post
 * the counts and any finding back. It never prints.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../errors.ts';
import { HEARTBEAT } from '../explore/heartbeat.ts';
import { type ShareData, type ShareReply, runShare } from '../explore/parallel.ts';
import { prepare } from '../explore/engine.ts';
import { resolveVariant } from '../kernel/load.ts';
import { resolveCVariant } from '../kc/load-c.ts';
import { configOf } from './options.ts';

const port = parentPort;
if (!port) throw new Error('[tlbcheck bug] search worker started outside a worker thread');
const data = workerData as ShareData;
// The supervisor's watchdog watches these cells: every worker's steps keep them moving.
if (data.beat) {
  HEARTBEAT.cells = new Int32Array(data.beat);
  HEARTBEAT.on = true;
}

async function main(): Promise<ShareReply> {
  try {
    const o = data.recipe as Record<string, unknown>;
    const spec = String(o['variant']);
    const { variant } = typeof o['base'] === 'string' ? await resolveCVariant(spec, process.cwd(), { base: o['base'] }) : await resolveVariant(spec);
    return runShare(prepare(configOf(variant, o)), data);
  } catch (e) {
    return { type: 'error', message: e instanceof Error ? e.message : String(e), user: e instanceof UserError };
  }
}

port.postMessage(await main());
