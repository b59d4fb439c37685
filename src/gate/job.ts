/**
 * One gate row as a job, the same in the main thread (`--workers 1`) and in a worker thread:
 * an optional size estimate from random probes (only when progress is shown), then the
 * exhaustive search. Progress is reported through `emit`, throttled; nothing prints here.
 */
import type { CheckResult } from '../explore/check.ts';
import { prepare } from '../explore/engine.ts';
import type { StatefulProgress } from '../explore/stateful.ts';
import type { Variant } from '../kernel/variant.ts';
import { type TreeEstimate, estimateTree } from '../explore/estimate.ts';
import { type ExpectRow, rowScenario, runRow } from './gate.ts';

export interface JobSpec {
  readonly index: number;
  /** Built-in variant id, or the absolute path of a user's variant file. */
  readonly spec: string;
  readonly row: ExpectRow;
  readonly timeMs?: number;
  /** Report progress (and probe for a size estimate with this seed). */
  readonly progress?: { readonly probes: number; readonly seed: number };
}

export interface JobProgress {
  readonly index: number;
  readonly p: StatefulProgress;
  readonly estimate?: TreeEstimate;
}

/** Progress reports at most this often, per job. */
const PROGRESS_EVERY_MS = 200;

export function runJob(job: JobSpec, variant: Variant, emit: (e: JobProgress) => void): CheckResult {
  const want = job.progress;
  if (!want) return runRow(job.row, variant, job.timeMs === undefined ? {} : { timeMs: job.timeMs });
  let estimate: TreeEstimate | undefined;
  const scenario = rowScenario(job.row);
  if (scenario && want.probes > 0) {
    const model = prepare({ variant, scenario, params: { cpus: job.row.cpus }, features: job.row.features, bounds: job.row.bounds });
    estimate = estimateTree(model, want.probes, want.seed);
  }
  // The first report comes at once, so every row shows its line, however fast it is.
  let last = -PROGRESS_EVERY_MS;
  const progress = (p: StatefulProgress): void => {
    if (p.elapsedMs - last < PROGRESS_EVERY_MS) return;
    last = p.elapsedMs;
    emit(estimate ? { index: job.index, p, estimate } : { index: job.index, p });
  };
  return runRow(job.row, variant, { ...(job.timeMs === undefined ? {} : { timeMs: job.timeMs }), progress });
}
