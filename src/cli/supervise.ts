/**
 * Runs a search in a worker thread under a watchdog, so that nothing a user's routine does can
 * hang or crash the command:
 * - `--time` is a hard limit: the search stops itself at its time budget and reports what it
 *   covered; if it has not answered a grace period later (a routine that never yields), the
 *   worker is terminated and the routine it was in is named.
 * - a stall (no step begun for `stallMs`) is a routine looping without yielding an effect: the
 *   worker is terminated and the routine, CPU and step are reported as a model error.
 * - Ctrl-C asks the worker to stop; the search returns what it covered, marked interrupted.
 *   A second Ctrl-C, or no answer within the grace period, terminates it.
 * - the worker's heap limit sits above the memory budget, so the budget stops a search first;
 *   running out of heap anyway is reported as one line, never a native crash of this process.
 *
 * The worker shares a small SharedArrayBuffer with this thread: the engine's heartbeat cells
 * (src/explore/heartbeat.ts) and the stop flag.
 */
import { takeEarlyInterrupt } from './early-sigint.ts';
import { Worker } from 'node:worker_threads';
import { BEAT_CELLS, BEAT_CPU, BEAT_FN, BEAT_STEP, BEAT_STEPS, BEAT_STOP } from '../explore/heartbeat.ts';

/** Messages a supervised worker posts. */
export type FromTask<P, R> =
  | { readonly type: 'started' }
  | { readonly type: 'name'; readonly id: number; readonly name: string }
  | { readonly type: 'progress'; readonly p: P }
  | { readonly type: 'done'; readonly value: R }
  | { readonly type: 'error'; readonly message: string; readonly exitCode: number; readonly internal: boolean };

/** Where the engine was when the watchdog stepped in. */
export interface Where {
  readonly fn: string;
  readonly cpu: number;
  readonly step: number;
}

export type Ending<R> =
  | { readonly kind: 'done'; readonly value: R }
  | { readonly kind: 'error'; readonly message: string; readonly exitCode: number; readonly internal: boolean }
  /** No step begun for the stall period: a routine loops without yielding. */
  | { readonly kind: 'stalled'; readonly where: Where; readonly ms: number }
  /** Terminated at the hard deadline (time budget plus grace) or after Ctrl-C. */
  | { readonly kind: 'killed'; readonly why: 'time' | 'interrupted'; readonly where: Where | undefined }
  | { readonly kind: 'out-of-memory' }
  | { readonly kind: 'load-timeout'; readonly ms: number };

export interface SuperviseOptions<P> {
  /** Time budget of the search; the worker is terminated at `timeMs + graceMs` at the latest. */
  readonly timeMs?: number;
  readonly stallMs?: number;
  readonly graceMs?: number;
  /** How long loading (the variant file, type-checking) may take before the first step. */
  readonly loadMs?: number;
  /** Heap limit of the worker in MiB. */
  readonly heapMb: number;
  readonly onProgress?: (p: P) => void;
  /** Called when Ctrl-C arrives (e.g. to say "stopping"). */
  readonly onInterrupt?: () => void;
}

export const DEFAULT_STALL_MS = 10_000;

/** Node's flags for a worker, without those that set heap sizes (resourceLimits does). */
export const workerExecArgv = (): string[] => process.execArgv.filter((a) => !/^--(max-old-space-size|max-semi-space-size|max-heap-size)/.test(a));
const DEFAULT_GRACE_MS = 3_000;
const DEFAULT_LOAD_MS = 120_000;

export function supervise<P, R>(entry: URL, workerData: unknown, opt: SuperviseOptions<P>): Promise<Ending<R>> {
  const sab = new SharedArrayBuffer(BEAT_CELLS * 4);
  const cells = new Int32Array(sab);
  const names = new Map<number, string>();
  const stallMs = opt.stallMs ?? DEFAULT_STALL_MS;
  const graceMs = opt.graceMs ?? DEFAULT_GRACE_MS;
  const worker = new Worker(entry, {
    workerData: { data: workerData, beat: sab },
    resourceLimits: { maxOldGenerationSizeMb: opt.heapMb },
    // A heap flag given to Node (e.g. --max-old-space-size) would override the worker's limit.
    execArgv: workerExecArgv(),
    stdout: false,
    stderr: false,
  });
  const t0 = Date.now();
  return new Promise<Ending<R>>((resolvePromise) => {
    let settled = false;
    let started = false;
    let startedAt = t0;
    let lastBeat = -1;
    let lastBeatAt = Date.now();
    let stopAskedAt: number | undefined;
    let interrupts = 0;
    const where = (): Where | undefined =>
      lastBeat <= 0 && cells[BEAT_STEPS] === 0 ? undefined : { fn: names.get(cells[BEAT_FN]!) || '(no kernel function)', cpu: cells[BEAT_CPU]!, step: cells[BEAT_STEP]! };
    const finish = (e: Ending<R>, kill: boolean): void => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      process.off('SIGINT', onSigint);
      if (kill) void worker.terminate();
      resolvePromise(e);
    };
    const askStop = (): void => {
      if (stopAskedAt === undefined) {
        Atomics.store(cells, BEAT_STOP, 1);
        stopAskedAt = Date.now();
      }
    };
    const onSigint = (): void => {
      interrupts++;
      opt.onInterrupt?.();
      askStop();
      if (interrupts > 1) finish({ kind: 'killed', why: 'interrupted', where: where() }, true);
    };
    process.on('SIGINT', onSigint);
    if (takeEarlyInterrupt()) onSigint();
    const timer = setInterval(() => {
      const now = Date.now();
      const beats = Atomics.load(cells, BEAT_STEPS);
      if (beats !== lastBeat) {
        lastBeat = beats;
        lastBeatAt = now;
      }
      if (!started) {
        if (now - t0 > (opt.loadMs ?? DEFAULT_LOAD_MS)) finish({ kind: 'load-timeout', ms: now - t0 }, true);
        return;
      }
      if (stopAskedAt !== undefined && now - stopAskedAt > graceMs) {
        finish({ kind: 'killed', why: 'interrupted', where: where() }, true);
        return;
      }
      // The search keeps its own time budget; a routine that never yields keeps it from looking.
      if (opt.timeMs !== undefined && now - startedAt > opt.timeMs + graceMs) {
        finish({ kind: 'killed', why: 'time', where: where() }, true);
        return;
      }
      if (now - lastBeatAt > stallMs) {
        const w = where();
        finish({ kind: 'stalled', where: w ?? { fn: '(before the first step)', cpu: -1, step: 0 }, ms: now - lastBeatAt }, true);
      }
    }, 100);
    worker.on('message', (m: FromTask<P, R>) => {
      switch (m.type) {
        case 'started':
          started = true;
          startedAt = Date.now();
          lastBeatAt = startedAt;
          return;
        case 'name':
          names.set(m.id, m.name);
          return;
        case 'progress':
          opt.onProgress?.(m.p);
          return;
        case 'done':
          finish({ kind: 'done', value: m.value }, true);
          return;
        case 'error':
          finish({ kind: 'error', message: m.message, exitCode: m.exitCode, internal: m.internal }, true);
          return;
      }
    });
    worker.on('error', (e: Error & { code?: string }) => {
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') finish({ kind: 'out-of-memory' }, false);
      else finish({ kind: 'error', message: `[tlbcheck bug] search worker failed: ${e.message}`, exitCode: 70, internal: true }, false);
    });
    worker.on('exit', (code) => {
      finish({ kind: 'error', message: `[tlbcheck bug] search worker exited with code ${code} before reporting`, exitCode: 70, internal: true }, false);
    });
  });
}
