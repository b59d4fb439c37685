/**
 * Runs gate jobs over Node worker threads (one or more), each under a watchdog: a job whose
 * routine stops yielding (no step begun for the stall period) or that overruns its time budget
 * by the grace period is terminated and reported as a model error naming the routine; Ctrl-C
 * asks every running job to stop and report what it covered, and no new job starts. Jobs are
 * handed out one at a time in the order given (the caller puts the biggest first), so a long
 * search does not wait behind short ones. Each job is a whole exhaustive search, deterministic
 * on its own, so verdicts and counts do not depend on the number of workers.
 */
import { takeEarlyInterrupt } from '../cli/early-sigint.ts';
import { Worker } from 'node:worker_threads';
import { ModelError, UserError } from '../errors.ts';
import type { CheckResult } from '../explore/check.ts';
import { BEAT_CELLS, BEAT_CPU, BEAT_FN, BEAT_STEP, BEAT_STEPS, BEAT_STOP } from '../explore/heartbeat.ts';
import type { JobProgress, JobSpec } from './job.ts';
import { workerExecArgv } from '../cli/supervise.ts';

export type ToWorker = { readonly type: 'run'; readonly job: JobSpec };
export type FromWorker =
  /** The job's variant is loaded and its search begins: the stall watchdog starts. */
  | { readonly type: 'started'; readonly index: number }
  | { readonly type: 'progress'; readonly e: JobProgress }
  | { readonly type: 'name'; readonly id: number; readonly name: string }
  | { readonly type: 'done'; readonly index: number; readonly result: CheckResult }
  | { readonly type: 'error'; readonly index: number; readonly message: string; readonly user: boolean };

export interface PoolOptions {
  readonly workers: number;
  readonly onProgress?: (e: JobProgress) => void;
  readonly onDone?: (index: number, result: CheckResult) => void;
  /** A job that begins no step for this long is stopped (default 10 s). */
  readonly stallMs?: number;
  /** Heap limit of each worker, MiB. */
  readonly heapMb?: number;
}

export interface PoolResult {
  readonly results: Map<number, CheckResult>;
  /** Ctrl-C arrived: jobs not started were skipped, running ones stopped early. */
  readonly interrupted: boolean;
}

const WORKER_ENTRY = new URL('../../bin/gate-worker.js', import.meta.url);
const GRACE_MS = 3_000;
const LOAD_MS = 120_000;

interface Slot {
  worker: Worker;
  cells: Int32Array;
  names: Map<number, string>;
  job: JobSpec | undefined;
  /** The job's search has begun (its variant is loaded). */
  searching: boolean;
  startedAt: number;
  lastBeat: number;
  lastBeatAt: number;
}

export async function runJobs(jobs: readonly JobSpec[], opt: PoolOptions): Promise<PoolResult> {
  const results = new Map<number, CheckResult>();
  const n = Math.max(1, Math.min(opt.workers, jobs.length));
  const stallMs = opt.stallMs ?? 10_000;
  const queue = [...jobs];
  const slots: Slot[] = [];
  let interrupted = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  let onSigint: (() => void) | undefined;
  if (jobs.length === 0) return { results, interrupted };
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const where = (s: Slot): string => {
        const fn = s.names.get(s.cells[BEAT_FN]!);
        return fn === undefined ? 'before the first step' : `in ${fn || '(no kernel function)'} on cpu${s.cells[BEAT_CPU]} at step ${s.cells[BEAT_STEP]}`;
      };
      const rowName = (j: JobSpec): string => `${j.row.variant} on ${j.row.scenario} (cpus ${j.row.cpus})`;
      const feed = (s: Slot): void => {
        const job = interrupted ? undefined : queue.shift();
        s.job = job;
        if (!job) {
          if (running === 0) resolve();
          return;
        }
        running++;
        s.searching = false;
        s.startedAt = Date.now();
        s.lastBeatAt = s.startedAt;
        s.lastBeat = Atomics.load(s.cells, BEAT_STEPS);
        s.worker.postMessage({ type: 'run', job } satisfies ToWorker);
      };
      const spawn = (): Slot => {
        const sab = new SharedArrayBuffer(BEAT_CELLS * 4);
        const s: Slot = {
          worker: new Worker(WORKER_ENTRY, {
            workerData: { beat: sab },
            execArgv: workerExecArgv(),
            ...(opt.heapMb ? { resourceLimits: { maxOldGenerationSizeMb: opt.heapMb } } : {}),
          }),
          cells: new Int32Array(sab),
          names: new Map(),
          job: undefined,
          searching: false,
          startedAt: 0,
          lastBeat: 0,
          lastBeatAt: 0,
        };
        s.worker.on('message', (m: FromWorker) => {
          switch (m.type) {
            case 'progress':
              opt.onProgress?.(m.e);
              return;
            case 'name':
              s.names.set(m.id, m.name);
              return;
            case 'started':
              s.searching = true;
              s.startedAt = Date.now();
              s.lastBeatAt = s.startedAt;
              return;
            case 'done':
              running--;
              results.set(m.index, m.result);
              opt.onDone?.(m.index, m.result);
              feed(s);
              return;
            case 'error':
              reject(m.user ? new UserError(m.message) : new Error(m.message.startsWith('[tlbcheck bug]') ? m.message : `[tlbcheck bug] gate worker: ${m.message}`));
              return;
          }
        });
        s.worker.on('error', (e: Error & { code?: string }) => {
          if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') reject(new UserError(`${s.job ? rowName(s.job) : 'a gate row'}: the search ran out of heap; give it --time or fewer CPUs`, 3));
          else reject(new Error(`[tlbcheck bug] gate worker failed: ${e.message}`));
        });
        slots.push(s);
        return s;
      };
      onSigint = () => {
        interrupted = true;
        for (const s of slots) Atomics.store(s.cells, BEAT_STOP, 1);
      };
      process.on('SIGINT', onSigint);
      if (takeEarlyInterrupt()) onSigint();
      timer = setInterval(() => {
        const now = Date.now();
        for (const s of slots) {
          const job = s.job;
          if (!job) continue;
          if (!s.searching) {
            if (now - s.startedAt > LOAD_MS) reject(new UserError(`${rowName(job)}: loading the variant took over ${LOAD_MS / 1000} s (does the file run a loop when imported?)`));
            continue;
          }
          const beats = Atomics.load(s.cells, BEAT_STEPS);
          if (beats !== s.lastBeat) {
            s.lastBeat = beats;
            s.lastBeatAt = now;
          }
          const overdue = job.timeMs !== undefined && now - s.startedAt > job.timeMs + GRACE_MS;
          const stuck = interrupted && now - s.lastBeatAt > GRACE_MS;
          if (now - s.lastBeatAt > stallMs || overdue || stuck) {
            reject(new ModelError(`${rowName(job)}: no step finished for ${((now - s.lastBeatAt) / 1000).toFixed(0)} s: the routine ${where(s)} runs without yielding an effect (a loop that never yields?) (the stall limit is ${stallMs / 1000} s; --stall sets it)`));
            return;
          }
        }
      }, 100);
      for (let i = 0; i < n; i++) feed(spawn());
    });
  } finally {
    if (timer) clearInterval(timer);
    if (onSigint) process.off('SIGINT', onSigint);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
  return { results, interrupted };
}
