/**
 * Runs gate jobs: in this thread for one worker, else over Node worker threads. Jobs are handed
 * out one at a time in the order given (the caller puts the biggest first), so a long search
 * does not wait behind short ones. Each job is a whole exhaustive search, deterministic on its
 * own, so verdicts and counts do not depend on the number of workers.
 */
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.ts';
import type { CheckResult } from '../explore/check.ts';
import type { Variant } from '../kernel/variant.ts';
import { type JobProgress, type JobSpec, runJob } from './job.ts';

export type ToWorker = { readonly type: 'run'; readonly job: JobSpec };
export type FromWorker =
  | { readonly type: 'progress'; readonly e: JobProgress }
  | { readonly type: 'done'; readonly index: number; readonly result: CheckResult }
  | { readonly type: 'error'; readonly index: number; readonly message: string; readonly user: boolean };

export interface PoolOptions {
  readonly workers: number;
  readonly onProgress?: (e: JobProgress) => void;
  readonly onDone?: (index: number, result: CheckResult) => void;
}

const WORKER_ENTRY = new URL('../../bin/gate-worker.js', import.meta.url);

export async function runJobs(jobs: readonly JobSpec[], variantOf: (spec: string) => Variant, opt: PoolOptions): Promise<Map<number, CheckResult>> {
  const results = new Map<number, CheckResult>();
  const n = Math.min(opt.workers, jobs.length);
  if (n <= 1) {
    for (const job of jobs) {
      const r = runJob(job, variantOf(job.spec), (e) => opt.onProgress?.(e));
      results.set(job.index, r);
      opt.onDone?.(job.index, r);
    }
    return results;
  }
  const queue = [...jobs];
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const feed = (w: Worker): void => {
        const job = queue.shift();
        if (!job) {
          if (running === 0) resolve();
          return;
        }
        running++;
        w.postMessage({ type: 'run', job } satisfies ToWorker);
      };
      for (let i = 0; i < n; i++) {
        const w = new Worker(WORKER_ENTRY);
        workers.push(w);
        w.on('message', (m: FromWorker) => {
          switch (m.type) {
            case 'progress':
              opt.onProgress?.(m.e);
              return;
            case 'done':
              running--;
              results.set(m.index, m.result);
              opt.onDone?.(m.index, m.result);
              feed(w);
              return;
            case 'error':
              reject(m.user ? new UserError(m.message) : new Error(m.message.startsWith('[tlbcheck bug]') ? m.message : `[tlbcheck bug] gate worker: ${m.message}`));
              return;
          }
        });
        w.on('error', (e) => reject(new Error(`[tlbcheck bug] gate worker failed: ${e.message}`)));
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
