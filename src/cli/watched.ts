/**
 * Run a whole CLI command in a supervised worker thread (cli-task.ts) and relay its output:
 * for the commands that run a user's routines outside `check` and `gate` (fuzz, replay and
 * minimize of a variant file). A routine that stops yielding is a model error; Ctrl-C ends the command, exit 130.
 */
import { isInternal, UserError } from '../errors.ts';
import { defaultMemoryMb, endingError, heapLimitMb } from './check.ts';
import type { CliLine, CliTaskData } from './cli-task.ts';
import type { Io } from './main.ts';
import { DEFAULT_STALL_MS, supervise } from './supervise.ts';

const TASK_WORKER = new URL('../../bin/task-worker.js', import.meta.url);

export async function runWatched(io: Io, argv: readonly string[], stallMs = DEFAULT_STALL_MS): Promise<number> {
  const data: CliTaskData = { task: 'cli', argv, tty: io.status !== undefined };
  const ending = await supervise<CliLine, number>(TASK_WORKER, data, {
    stallMs,
    heapMb: heapLimitMb(defaultMemoryMb()),
    onProgress: (l) => {
      if (l.to === 'o') io.out(l.text);
      else if (l.to === 'e') io.err(l.text);
      else io.status?.(l.text);
    },
  });
  if (ending.kind === 'done') return ending.value;
  if (ending.kind === 'killed' && ending.why === 'interrupted') {
    io.err('tlbcheck: interrupted');
    return 130;
  }
  const e = endingError(ending, stallMs, '');
  if (e instanceof UserError || isInternal(e)) throw e;
  throw e ?? new Error('[tlbcheck bug] unhandled command ending');
}
