/**
 * The body of `tlbcheck check`, run in a supervised worker thread (supervise.ts): load the
 * variant, search, minimize and package a counterexample. It returns data; the main thread
 * prints the verdict and then saves the file.
 */
import { relative, resolve } from 'node:path';
import { buildCounterexample, replay } from '../counterexample/counterexample.ts';
import { whyJson, whyOf } from '../report/why.ts';
import { type Minimized, minimize } from '../counterexample/minimize.ts';
import { minimizedCounterexample } from '../counterexample/package.ts';
import type { CounterexampleFile } from '../counterexample/schema.ts';
import { type CheckResult, type SearchOptions, type StrategyName, parallelCheckResult, search, validateSearch } from '../explore/check.ts';
import { type Model, prepare } from '../explore/engine.ts';
import { parallelDfs } from '../explore/parallel.ts';
import { UserError } from '../errors.ts';
import { workerExecArgv } from './supervise.ts';
import type { StatefulProgress } from '../explore/stateful.ts';
import { type TreeEstimate, estimateTree } from '../explore/estimate.ts';
import { resolveVariant } from '../kernel/load.ts';
import { resolveCVariant, wholeFileNote } from '../kc/load-c.ts';
import type { CVariant } from '../kc/variant.ts';
import { configOf } from './options.ts';
import { type TaskContext, hostTask } from './task-host.ts';

/** `--workers N`: the stateful dfs over N worker threads sharing its visited table. */
async function searchParallel(model: Model, opt: SearchOptions, o: Record<string, unknown>, workers: number): Promise<CheckResult> {
  if (opt.strategy !== 'dfs' || opt.stateless || opt.bitstate !== undefined) {
    throw new UserError('--workers splits the stateful dfs only (not --stateless, --bitstate or another strategy)');
  }
  // Every other option is checked as for one worker.
  validateSearch(model, opt);
  const t0 = Date.now();
  const limits = {
    ...(opt.timeMs === undefined ? {} : { timeMs: opt.timeMs }),
    ...(opt.maxStates === undefined ? {} : { maxStates: opt.maxStates }),
    ...(opt.maxMemoryMb === undefined ? {} : { maxMemoryMb: opt.maxMemoryMb }),
    ...(opt.maxExecutions === undefined ? {} : { maxExecutions: opt.maxExecutions }),
    ...(opt.por === undefined ? {} : { por: opt.por }),
    ...(opt.defer === undefined ? {} : { defer: opt.defer }),
  };
  const r = await parallelDfs(model, workers, SEARCH_WORKER, { ...o, workers: 1 }, limits, workerExecArgv());
  return parallelCheckResult(model, opt, t0, r, workers);
}

const SEARCH_WORKER = new URL('../../bin/search-worker.js', import.meta.url);

const isShard = (v: unknown): v is { index: number; count: number } => typeof v === 'object' && v !== null && 'index' in v && 'count' in v;

export interface CheckTaskData {
  readonly task: 'check';
  readonly o: Record<string, unknown>;
  /** Report progress (the command's stderr is a terminal). */
  readonly progress: boolean;
}

export interface CheckOutcome {
  readonly result: CheckResult;
  /** For a whole kernel file (--base): which functions were taken and which ignored. */
  readonly note?: string;
  /** The "why" of the saved (minimized) execution: its paragraph, and the chain as data. */
  readonly why?: { readonly text: string; readonly chain: Record<string, unknown> };
  readonly ce?: CounterexampleFile;
  readonly minimized?: { readonly before: Minimized['before']; readonly after: Minimized['after'] };
}

const PROGRESS_EVERY_MS = 200;

/** A progress report of `check`: the search so far, and the size estimate of its tree. */
export interface CheckProgress {
  readonly p: StatefulProgress;
  readonly estimate?: TreeEstimate;
}

/** Random probes for the progress line's size estimate (the gate uses as many). */
const PROBES = 64;

export async function computeCheck(o: Record<string, unknown>, ctx: TaskContext<CheckProgress>, progress: boolean): Promise<CheckOutcome> {
  const spec = String(o['variant']);
  // --base: a whole kernel tlb.c (no tlbcheck header) checked on a C generation (issue 13).
  const { variant, path } = typeof o['base'] === 'string' ? await resolveCVariant(spec, process.cwd(), { base: o['base'] }) : await resolveVariant(spec);
  const note = 'spec' in variant ? wholeFileNote(variant as CVariant) : undefined;
  const withNote = <T extends CheckOutcome>(x: T): T => (note === undefined ? x : { ...x, note });
  const cfg = configOf(variant, o);
  const model = prepare(cfg);
  const strategy = o['strategy'] as StrategyName;
  const seed = o['seed'] as number;
  const num = (k: string): number | undefined => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
  let last = -PROGRESS_EVERY_MS;
  ctx.started();
  // The progress line's Knuth estimate of the execution tree, as the gate's (own seed stream).
  const estimate = progress && (strategy === 'dfs' || strategy === 'bfs') ? estimateTree(model, PROBES, seed) : undefined;
  const workers = num('workers') ?? 1;
  const opts = {
    strategy,
    seed,
    ...(num('maxExecutions') === undefined ? {} : { maxExecutions: num('maxExecutions')! }),
    ...(num('time') === undefined ? {} : { timeMs: num('time')! * 1000 }),
    ...(num('maxStates') === undefined ? {} : { maxStates: num('maxStates')! }),
    ...(num('maxMemory') === undefined ? {} : { maxMemoryMb: num('maxMemory')! }),
    ...(o['stateless'] === true ? { stateless: true } : {}),
    ...(num('bitstate') === undefined ? {} : { bitstate: num('bitstate')! }),
    ...(num('depth') === undefined ? {} : { depth: num('depth')! }),
    ...(o['por'] === false ? { por: false } : {}),
    ...(o['defer'] === false ? { defer: false } : {}),
    ...(num('delays') === undefined ? {} : { delays: num('delays')! }),
    ...(isShard(o['shard']) ? { shard: o['shard'] } : {}),
    ...(progress
      ? {
          progress: (p: StatefulProgress) => {
            if (p.elapsedMs - last < PROGRESS_EVERY_MS) return;
            last = p.elapsedMs;
            ctx.progress(estimate ? { p, estimate } : { p });
          },
        }
      : {}),
  };
  const r = workers > 1 ? await searchParallel(model, opts, o, workers) : search(model, opts);
  if (!(r.violation && r.tape && r.widths)) return withNote({ result: r });
  const outDir = String(o['out']);
  // A user variant is recorded relative to the counterexample, never as a machine path.
  const rel = path === undefined ? undefined : relative(resolve(outDir), path);
  // A swarm run records its own budgets: the tape replays under them.
  const foundModel = r.bounds === cfg.bounds ? model : prepare({ ...cfg, bounds: r.bounds });
  const found = { violation: r.violation, tape: r.tape, widths: r.widths, strategy, seed };
  // Minimized unless --no-minimize: the saved file is the simplest execution the minimizer finds.
  const m = o['minimize'] === false ? undefined : minimize({ model: foundModel }, r.tape, r.violation.invariant);
  const ce = m ? minimizedCounterexample(m, strategy, seed, rel) : buildCounterexample(foundModel, found, rel);
  // The why of the saved execution, from a replay of its tape (the file keeps no event data).
  const again = replay(ce, variant, true);
  const x = again.kind === 'violated' ? whyOf(again.trace, again.violation) : undefined;
  const why = x ? { why: { text: x.text, chain: whyJson(x) } } : {};
  return withNote(m ? { result: r, ce, minimized: { before: m.before, after: m.after }, ...why } : { result: r, ce, ...why });
}

hostTask<CheckTaskData, CheckProgress, CheckOutcome>((data, ctx) => computeCheck(data.o, ctx, data.progress));
