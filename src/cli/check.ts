/**
 * `tlbcheck check`: the search runs in a supervised worker thread (supervise.ts, check-task.ts);
 * this thread prints the verdict first, then saves the counterexample, so an output error never
 * loses a verdict.
 */
import { totalmem } from 'node:os';
import { saveCounterexample } from '../counterexample/counterexample.ts';
import { sizeText } from '../counterexample/package.ts';
import { ModelError, UserError } from '../errors.ts';
import type { StatefulProgress } from '../explore/stateful.ts';
import { checkJson, checkText } from '../report/format.ts';
import { progressText } from '../report/progress.ts';
import type { CheckOutcome, CheckProgress, CheckTaskData } from './check-task.ts';
import type { Io } from './main.ts';
import { replayCommand } from '../gate/report.ts';
import { isVariantFile } from '../kernel/load.ts';
import { type Ending, type Where, DEFAULT_STALL_MS, supervise } from './supervise.ts';

const TASK_WORKER = new URL('../../bin/task-worker.js', import.meta.url);

/** Default `--max-memory`: half the machine's memory, at most 16 GiB. */
export function defaultMemoryMb(): number {
  return Math.max(256, Math.min(16384, Math.floor(totalmem() / 1048576 / 2)));
}

/** Heap limit of a search worker with memory budget `mb`: far enough above it that the budget stops the search first. */
export const heapLimitMb = (mb: number): number => Math.ceil(mb * 1.5) + 512;

export const whereText = (w: Where | undefined): string => (w ? `in ${w.fn} on cpu${w.cpu} at step ${w.step}` : 'before the first step');

/** One line for a search the watchdog had to end; undefined for a search that reported. */
export function endingError(e: Ending<unknown>, stallMs: number, subject: string): UserError | Error | undefined {
  switch (e.kind) {
    case 'done':
      return undefined;
    case 'error':
      if (e.internal) return new Error(e.message);
      return e.message.startsWith('routine ') ? new ModelError(`${subject}${e.message}`) : new UserError(e.message, e.exitCode === 3 ? 3 : 2);
    case 'stalled':
      return new ModelError(
        `${subject}no step finished for ${(e.ms / 1000).toFixed(0)} s: the routine ${whereText(e.where)} runs without yielding an effect (a loop that never yields?) (the stall limit is ${stallMs / 1000} s; --stall sets it)`,
      );
    case 'killed':
      return e.why === 'time'
        ? new ModelError(`${subject}the time budget ran out and the search did not stop: the routine ${whereText(e.where)} runs without yielding an effect`)
        : undefined;
    case 'out-of-memory':
      return new UserError(`${subject}the search ran out of heap before its memory budget; lower --max-memory or the search's size`, 3);
    case 'load-timeout':
      return new UserError(`${subject}loading the variant took over ${(e.ms / 1000).toFixed(0)} s (does the file run a loop when imported?)`);
  }
}

export async function runCheck(io: Io, o: Record<string, unknown>): Promise<number> {
  const memoryMb = typeof o['maxMemory'] === 'number' ? o['maxMemory'] : defaultMemoryMb();
  const stallMs = typeof o['stall'] === 'number' ? o['stall'] * 1000 : DEFAULT_STALL_MS;
  const timeMs = typeof o['time'] === 'number' ? o['time'] * 1000 : undefined;
  const showProgress = io.status !== undefined && o['json'] !== true;
  let lastProgress: StatefulProgress | undefined;
  const data: CheckTaskData = { task: 'check', o: { ...o, maxMemory: memoryMb }, progress: showProgress };
  const ending = await supervise<CheckProgress, CheckOutcome>(TASK_WORKER, data, {
    ...(timeMs === undefined ? {} : { timeMs }),
    stallMs,
    heapMb: heapLimitMb(memoryMb),
    onProgress: ({ p, estimate }) => {
      lastProgress = p;
      if (!showProgress) return;
      io.status?.(`[check] ${progressText(p, estimate)}`);
    },
    onInterrupt: () => io.status?.('[check] interrupted: stopping and reporting what was covered'),
  });
  if (showProgress) io.status?.('');
  const spec = String(o['variant']);
  const problem = endingError(ending, stallMs, isVariantFile(spec) ? `variant ${spec}: ` : '');
  if (problem) throw problem;
  if (ending.kind === 'killed') {
    // Ctrl-C and the worker did not answer in time: report what the last progress report saw.
    const covered = lastProgress ? `${lastProgress.states} states, ${lastProgress.executions} executions, ${(lastProgress.elapsedMs / 1000).toFixed(1)} s` : 'no progress report yet';
    if (o['json'] === true) io.out(JSON.stringify({ verdict: 'inconclusive', stop: 'interrupted', interrupted: true, covered: lastProgress ?? null }));
    else io.out(`INCONCLUSIVE (interrupted) ${whereText(ending.where)}: covered ${covered}`);
    return 130;
  }
  if (ending.kind !== 'done') throw new Error('[tlbcheck bug] unhandled search ending');
  const { result: r, ce, minimized, why, note } = ending.value;
  if (note !== undefined && o['json'] !== true) io.out(note);
  let saved: { path: string; reused: boolean } | undefined;
  let saveError: UserError | undefined;
  // The verdict goes out first in text; JSON is one object, so the save is tried first there.
  const save = (): void => {
    if (!ce) return;
    try {
      saved = saveCounterexample(ce, String(o['out']));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      saveError = e;
    }
  };
  if (o['json'] === true) {
    save();
    const sizes = minimized ? { minimized: { before: minimized.before, after: minimized.after } } : {};
    io.out(JSON.stringify({ ...checkJson(r, saved?.path), ...sizes, why: why?.text ?? null, chain: why?.chain ?? null, ...(saveError ? { saveError: saveError.message } : {}) }));
  } else {
    io.out(checkText(r, undefined, why?.text));
    if (minimized) io.out(`  minimized: ${sizeText(minimized.before, minimized.after)}`);
    save();
    if (saved) {
      io.out(`  counterexample: ${saved.path}${saved.reused ? ' (already saved)' : ''}`);
      io.out(`  replay: ${replayCommand(saved.path, isVariantFile(spec) ? spec : undefined)}`);
    }
  }
  if (saveError) {
    io.err(`tlbcheck: ${saveError.message}`);
    return 2;
  }
  if (r.stop === 'interrupted') return 130;
  switch (r.verdict) {
    case 'violated':
      return 1;
    case 'inconclusive':
      return 3;
    default:
      return 0;
  }
}
