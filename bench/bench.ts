/**
 * `npm run bench [-- --json] [-- --quick] [-- --vs-spin] [-- --spin-dir DIR] [-- --only TEXT]`: throughput,
 * time-to-verdict and time-to-first-violation on named scenarios. Figures are measured here,
 * never asserted in tests. Each row runs in a child process of its own, so its peak memory is
 * its own; rows run one after another (one core each).
 *
 * Rows: the base variants' exhaustive verdicts at 2, 3 and 4 CPUs; raw engine throughput
 * (re-execution DFS and random, budgeted); every bug variant's time to first violation under
 * each strategy (randomized ones: median of seeds 1-10); with --vs-spin, the SPIN reference
 * models next to the matching tlbcheck question.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { type CheckResult, type StrategyName, search } from '../src/explore/check.ts';
import { prepare } from '../src/explore/engine.ts';
import { VARIANTS, findVariant } from '../src/kernel/index.ts';
import { type Bounds, DEFAULT_BOUNDS, type Features } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { runSpin, spinAvailable } from './spin.ts';
import { statefulDfs } from '../src/explore/stateful.ts';
import { estimateTree } from '../src/explore/estimate.ts';
import { parallelDfs } from '../src/explore/parallel.ts';
import { configOf } from '../src/cli/options.ts';

interface Job {
  readonly variant: string;
  readonly scenario: string;
  readonly cpus: number;
  readonly ops?: number;
  readonly timeMs?: number;
  readonly features?: Partial<Features>;
  readonly bounds?: Partial<Bounds>;
  readonly strategy: StrategyName | 'dfs-stateless' | 'dfs-nopor' | 'dfs-nosteal' | 'estimate';
  readonly seeds?: readonly number[];
  readonly maxExecutions?: number;
  readonly note: string;
  readonly spin?: { readonly name: string; readonly model: string; readonly defines: readonly string[] };
  /** Stateful dfs split over this many worker threads (`check --workers N`, run through the CLI). */
  readonly workers?: number;
}

interface Row {
  scenario: string;
  cpus: number;
  variant: string;
  strategy: string;
  verdict: string;
  executions: number;
  steps: number;
  states: number | null;
  /** Stateful searches: distinct states per second, and bytes of the visited set per state. */
  statesPerSec?: number;
  bytesPerState?: number;
  /** DPOR: executions cut because every enabled move was asleep. */
  sleepBlocked?: number;
  elapsedMs: number;
  executionsPerSec: number;
  stepsPerSec: number;
  peakMemMB: number;
  note: string;
  spin?: string;
  spinMs?: number;
  /** spin -a + gcc, which `spinMs` leaves out. */
  spinBuildMs?: number;
  spinStates?: number;
  spinVerdict?: string;
  ratioVsSpin?: number;
}

const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const value = (f: string) => {
  const i = args.indexOf(f);
  return i >= 0 ? args[i + 1] : undefined;
};

/**
 * A `check --workers N` row: parallelDfs in this process with the CLI's worker entry, so the
 * peak memory covers the worker threads.
 */
async function runWorkersJob(job: Job): Promise<Row> {
  const v = findVariant(job.variant)!;
  const recipe = { variant: job.variant, scenario: job.scenario, cpus: job.cpus, ...(job.ops === undefined ? {} : { ops: job.ops }), workers: 1 };
  const model = prepare(configOf(v, recipe));
  const t0 = Date.now();
  const r = await parallelDfs(model, job.workers!, new URL('../bin/search-worker.js', import.meta.url), recipe, job.timeMs === undefined ? {} : { timeMs: job.timeMs }, []);
  const ms = Math.max(Date.now() - t0, 1);
  return {
    scenario: job.scenario,
    cpus: job.cpus,
    variant: job.variant,
    strategy: `dfs --workers ${job.workers}`,
    verdict: r.violation ? `violated ${r.violation.invariant}` : r.complete ? 'holds' : 'inconclusive',
    executions: r.executions,
    steps: r.transitions,
    states: r.states,
    statesPerSec: Math.round(r.states / (ms / 1000)),
    bytesPerState: Math.round((r.bytes / Math.max(r.states, 1)) * 10) / 10,
    elapsedMs: ms,
    executionsPerSec: Math.round(r.executions / (ms / 1000)),
    stepsPerSec: Math.round(r.transitions / (ms / 1000)),
    peakMemMB: Math.round(process.resourceUsage().maxRSS / 1024),
    note: job.note,
  };
}

function runJob(job: Job): Row {
  const v = findVariant(job.variant)!;
  const params = job.ops === undefined ? { cpus: job.cpus } : { cpus: job.cpus, ops: job.ops };
  const model = prepare({ variant: v, scenario: findScenario(job.scenario)!, params, features: { ...v.features, ...job.features }, bounds: { ...DEFAULT_BOUNDS, ...job.bounds } });
  const seeds = job.seeds ?? [1];
  if (job.strategy === 'estimate') {
    const t0 = Date.now();
    const e = estimateTree(model, 2000, 1);
    return {
      scenario: job.scenario,
      cpus: job.cpus,
      variant: job.variant,
      strategy: 'plain-dfs-estimate',
      verdict: `~${e.executions.toExponential(2)} executions`,
      executions: Math.round(e.executions),
      steps: 0,
      states: null,
      elapsedMs: Date.now() - t0,
      executionsPerSec: 0,
      stepsPerSec: 0,
      peakMemMB: Math.round(process.resourceUsage().maxRSS / 1024),
      note: `size of plain DFS's tree (Knuth estimator, 2000 random probes, seed 1)${job.note ? `; ${job.note}` : ''}`,
    };
  }
  if (job.strategy === 'dfs-nopor' || job.strategy === 'dfs-nosteal') {
    const t0 = Date.now();
    const r = statefulDfs(model, job.strategy === 'dfs-nopor' ? { por: false } : { steal: false });
    const ms = Date.now() - t0;
    return {
      scenario: job.scenario,
      cpus: job.cpus,
      variant: job.variant,
      strategy: job.strategy,
      verdict: r.violation ? `violated ${r.violation.invariant}` : r.complete ? 'holds' : 'inconclusive',
      executions: r.executions,
      steps: r.transitions,
      states: r.states,
      statesPerSec: Math.round(r.states / Math.max(ms / 1000, 0.001)),
      bytesPerState: Math.round((r.store.bytes / Math.max(r.states, 1)) * 10) / 10,
      elapsedMs: ms,
      executionsPerSec: Math.round(r.executions / Math.max(ms / 1000, 0.001)),
      stepsPerSec: Math.round(r.transitions / Math.max(ms / 1000, 0.001)),
      peakMemMB: Math.round(process.resourceUsage().maxRSS / 1024),
      note: job.note,
    };
  }
  const strategy: StrategyName = job.strategy === 'dfs-stateless' ? 'dfs' : job.strategy;
  const runs: CheckResult[] = seeds.map((seed) =>
    search(model, {
      strategy,
      seed,
      ...(job.strategy === 'dfs-stateless' ? { stateless: true } : {}),
      ...(job.maxExecutions === undefined ? {} : { maxExecutions: job.maxExecutions }),
      ...(job.timeMs === undefined ? {} : { timeMs: job.timeMs }),
    }),
  );
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const total = (f: (r: CheckResult) => number) => runs.reduce((a, r) => a + f(r), 0);
  const secs = Math.max(total((r) => r.elapsedMs), 1) / 1000;
  const first = runs[0]!;
  const found = runs.filter((r) => r.verdict === 'violated').length;
  const verdict =
    runs.length > 1
      ? `violated in ${found}/${runs.length} seeds`
      : first.verdict === 'violated'
        ? `violated ${first.violation?.invariant}`
        : first.verdict;
  return {
    scenario: job.scenario,
    cpus: job.cpus,
    variant: job.variant,
    strategy: job.strategy,
    verdict,
    executions: median(runs.map((r) => r.executions)),
    steps: median(runs.map((r) => r.steps)),
    states: first.states ?? null,
    ...(first.states !== undefined && first.store ? { statesPerSec: Math.round(first.states / Math.max(first.elapsedMs / 1000, 0.001)), bytesPerState: Math.round((first.store.bytes / Math.max(first.states, 1)) * 10) / 10 } : {}),
    ...(job.strategy === 'dpor' ? { sleepBlocked: first.sleepBlocked ?? 0 } : {}),
    elapsedMs: median(runs.map((r) => r.elapsedMs)),
    executionsPerSec: Math.round(total((r) => r.executions) / secs),
    stepsPerSec: Math.round(total((r) => r.steps) / secs),
    peakMemMB: Math.round(process.resourceUsage().maxRSS / 1024),
    note: job.note,
  };
}

/**
 * The default rows: the named scenarios at 2, 3 and 4 CPUs for 4.13 and 6.18 (each exhaustive
 * search with a 60 s budget: a row that runs out is reported inconclusive with its counts),
 * throughput rows, and every bug variant's 2-CPU time to first violation under every strategy.
 * `--all` adds every base variant x scenario at 2 and 3 CPUs.
 */
function jobs(quick: boolean, all: boolean): Job[] {
  const out: Job[] = [];
  const cpus = quick ? [2] : [2, 3, 4];
  const budget = 60_000;
  for (const variant of ['linux-4.13', 'linux-6.18']) {
    for (const scenario of ['switch-vs-flush', 'lazy-flush', 'lazy-free-pgtables']) {
      for (const n of cpus) out.push({ variant, scenario, cpus: n, strategy: 'dfs', timeMs: budget, note: 'time-to-verdict (60 s budget)' });
    }
  }
  if (all) {
    for (const v of VARIANTS.filter((x) => x.kind === 'base')) {
      const scenarios = [...new Set(v.expect.filter((e) => e.verdict === 'holds' && !e.features && !e.bounds).map((e) => e.scenario))];
      for (const s of scenarios) for (const n of [2, 3]) out.push({ variant: v.id, scenario: s, cpus: n, strategy: 'dfs', timeMs: budget, note: 'time-to-verdict (60 s budget)' });
    }
  }
  out.push({ variant: 'linux-4.13', scenario: 'switch-vs-flush', cpus: 2, strategy: 'dfs-stateless', maxExecutions: quick ? 2000 : 20000, note: 'engine throughput, budgeted' });
  // The effect of partial-order reduction and of cheap backtracking (generator hand-over).
  const n = quick ? 2 : 3;
  // Source-DPOR against the size of plain DFS's tree, with unbounded walks and without walks;
  // and on lazy-free-pgtables, where it completes at 3 CPUs.
  for (const c of quick ? [2] : [2, 3]) {
    out.push({ variant: 'linux-4.13', scenario: 'lazy-free-pgtables', cpus: c, strategy: 'estimate', note: 'plain dfs' });
    out.push({ variant: 'linux-4.13', scenario: 'lazy-free-pgtables', cpus: c, strategy: 'dpor', timeMs: 2 * budget, note: 'source-DPOR (120 s budget)' });
  }
  for (const bounds of [{}, { walks: 0 }]) {
    const b = 'walks' in bounds ? ', walks 0' : '';
    for (const c of quick ? [2] : [2, 3]) {
      out.push({ variant: 'linux-4.13', scenario: 'switch-vs-flush', cpus: c, bounds, strategy: 'estimate', note: `plain dfs${b}` });
      out.push({ variant: 'linux-4.13', scenario: 'switch-vs-flush', cpus: c, bounds, strategy: 'dpor', timeMs: 2 * budget, note: `source-DPOR${b} (120 s budget)` });
    }
  }
  for (const strategy of ['dfs-nopor', 'dfs-nosteal'] as const) {
    out.push({ variant: 'linux-4.13', scenario: 'switch-vs-flush', cpus: n, strategy, note: strategy === 'dfs-nopor' ? 'dfs without sleep sets' : 'dfs rebuilding generators on every clone' });
  }
  out.push({ variant: 'linux-4.13', scenario: 'switch-vs-flush', cpus: 3, strategy: 'random', maxExecutions: quick ? 500 : 5000, note: 'engine throughput, budgeted' });
  const seeds = Array.from({ length: 10 }, (_, i) => i + 1);
  for (const v of VARIANTS.filter((x) => x.kind === 'bug')) {
    const e = v.expect.find((x) => x.verdict === 'violated' && !x.bounds && x.cpus === 2);
    if (!e) continue;
    const f = e.features ? { features: e.features } : {};
    const withFeatures = e.features ? ` (features ${JSON.stringify(e.features)})` : '';
    for (const strategy of ['dfs', 'bfs', 'dpor'] as const) out.push({ variant: v.id, scenario: e.scenario, cpus: 2, strategy, timeMs: budget, ...f, note: `time-to-first-violation${withFeatures}` });
    for (const strategy of ['random', 'pct', 'delay', 'swarm'] as const) {
      out.push({ variant: v.id, scenario: e.scenario, cpus: 2, strategy, seeds, maxExecutions: 20000, timeMs: 5000, ...f, note: `time-to-first-violation, median of seeds 1-10 (<= 20000 runs or 5 s each)${withFeatures}` });
    }
  }
  return out;
}

/** SPIN reference rows and the tlbcheck question each one answers. */
function spinJobs(): Job[] {
  // 5 CPUs get 300 s: n5r1 completes in about 2 minutes with two workers, 4 with one.
  const limit = (n: number): number => (n >= 5 ? 300_000 : 120_000);
  const s4 = (n: number, r: number): Job => ({
    variant: 'linux-6.18',
    scenario: 'spin-scaled',
    cpus: n,
    ops: r,
    strategy: 'dfs',
    timeMs: limit(n),
    note: `vs SPIN (${limit(n) / 1000} s budget)`,
    spin: { name: `s4-n${n}r${r}-fixed`, model: 's4_scaled.pml', defines: [`-DNCPU=${n}`, `-DROUNDS=${r}`] },
  });
  const rows: Job[] = [
    { variant: 'linux-6.18', scenario: 'spin-scaled', cpus: 2, ops: 1, strategy: 'dfs', note: 'vs SPIN', spin: { name: 's1-modern-fixed', model: 's1_switch_vs_flush_modern.pml', defines: [] } },
    { variant: 'linux-4.13', scenario: 'switch-vs-flush', cpus: 2, strategy: 'dfs', note: 'vs SPIN', spin: { name: 's2-4.13-fixed', model: 's2_switch_vs_flush_4_13.pml', defines: [] } },
    { variant: 'linux-4.13-flush-no-mb', scenario: 'switch-vs-flush', cpus: 2, strategy: 'dfs', note: 'vs SPIN', spin: { name: 's2-4.13-buggy', model: 's2_switch_vs_flush_4_13.pml', defines: ['-DBUGGY'] } },
    { variant: 'linux-6.18', scenario: 'lazy-free-pgtables', cpus: 2, strategy: 'dfs', note: 'vs SPIN', spin: { name: 's3-lazy-fixed', model: 's3_lazy_free_pgtables.pml', defines: [] } },
    { variant: 'linux-6.18-lazy-skip-freed', scenario: 'lazy-free-pgtables', cpus: 2, strategy: 'dfs', note: 'vs SPIN', spin: { name: 's3-lazy-buggy', model: 's3_lazy_free_pgtables.pml', defines: ['-DBUGGY'] } },
    s4(3, 1),
    s4(3, 2),
    s4(4, 1),
    s4(4, 2),
    s4(5, 1),
    { ...s4(4, 1), workers: 2, note: 'vs SPIN (120 s budget), 2 workers' },
    { ...s4(4, 2), workers: 2, note: 'vs SPIN (120 s budget), 2 workers' },
    { ...s4(5, 1), workers: 2, note: 'vs SPIN (300 s budget), 2 workers' },
  ];
  return rows.filter((r) => findVariant(r.variant) && findScenario(r.scenario));
}

if (value('--row') !== undefined) {
  // Child mode: run one job given as JSON, print its row.
  const job = JSON.parse(value('--row')!) as Job;
  const row = job.workers !== undefined ? await runWorkersJob(job) : runJob(job);
  process.stdout.write(`${JSON.stringify(row)}\n`);
} else {
  const quick = flag('--quick');
  // --only TEXT keeps the rows whose "variant scenario strategy note" contains TEXT.
  const only = value('--only');
  const all = [...jobs(quick, flag('--all')), ...(flag('--vs-spin') ? spinJobs() : [])].filter(
    (j) => only === undefined || `${j.variant} ${j.scenario} ${j.strategy} ${j.note}`.includes(only),
  );
  const spinDir = resolve(value('--spin-dir') ?? join(import.meta.dirname, '..', '..', 'shared', 'anchors', 'spin'));
  const spinProblem = flag('--vs-spin') ? spinAvailable(spinDir) : undefined;
  const rows: Row[] = [];
  for (const job of all) {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'run-ts.js'), join(import.meta.dirname, 'bench.ts'), '--row', JSON.stringify(job)], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let row: Row;
    try {
      row = JSON.parse(line) as Row;
    } catch {
      row = { scenario: job.scenario, cpus: job.cpus, variant: job.variant, strategy: job.strategy, note: job.note, verdict: `error: ${(r.stderr || 'timeout').split('\n')[0]}`, executions: 0, steps: 0, states: null, elapsedMs: 0, executionsPerSec: 0, stepsPerSec: 0, peakMemMB: 0 };
    }
    if (job.spin) {
      row.spin = job.spin.name;
      if (spinProblem === undefined) {
        const s = runSpin(spinDir, job.spin.model, job.spin.defines);
        row.spinMs = s.ms;
        row.spinBuildMs = s.buildMs;
        row.spinStates = s.states;
        row.spinVerdict = s.verdict;
        // A ratio only compares time-to-verdict when both reached the same verdict.
        if (row.verdict.split(' ')[0] === s.verdict.split(' ')[0]) row.ratioVsSpin = Math.round((row.elapsedMs / Math.max(s.ms, 1)) * 100) / 100;
      }
    }
    rows.push(row);
    // One line per finished row on stderr, so a long run shows (and keeps) its progress.
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }
  const machine = { cpu: os.cpus()[0]?.model ?? '?', cores: os.cpus().length, memGB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  if (flag('--json')) {
    process.stdout.write(`${JSON.stringify({ machine, rows }, null, 1)}\n`);
  } else {
    process.stderr.write('\n');
    if (spinProblem) console.log(`SPIN comparison skipped: ${spinProblem}`);
    console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGB} GB, node ${machine.node}`);
    const cols = ['scenario', 'cpus', 'variant', 'strategy', 'verdict', 'execs', 'steps', 'states', 'blocked', 'ms', 'exec/s', 'steps/s', 'states/s', 'B/state', 'MB', 'spin', 'spinMs', 'spinStates', 'ratio', 'note'];
    console.log(cols.join('\t'));
    for (const r of rows) {
      console.log(
        [r.scenario, r.cpus, r.variant, r.strategy, r.verdict, r.executions, r.steps, r.states ?? '-', r.sleepBlocked ?? '-', r.elapsedMs, r.executionsPerSec, r.stepsPerSec, r.statesPerSec ?? '-', r.bytesPerState ?? '-', r.peakMemMB, r.spin ?? '-', r.spinMs ?? '-', r.spinStates ?? '-', r.ratioVsSpin ?? '-', r.note].join('\t'),
      );
    }
  }
}
