/**
 * `npm run bench [-- --json] [-- --quick]`: throughput and time-to-verdict on named scenarios.
 * Figures are measured here, never asserted in tests. Each row runs in this process, one after
 * another, on one core.
 */
import os from 'node:os';
import { type CheckResult, search } from '../src/explore/check.ts';
import { prepare } from '../src/explore/engine.ts';
import { findVariant } from '../src/kernel/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';

interface Row {
  scenario: string;
  cpus: number;
  variant: string;
  strategy: string;
  verdict: string;
  executions: number;
  steps: number;
  states: number | null;
  elapsedMs: number;
  executionsPerSec: number;
  stepsPerSec: number;
  peakMemMB: number;
  note?: string;
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');

function run(variant: string, scenario: string, cpus: number, strategy: 'dfs' | 'random', opts: { seed?: number; stateless?: boolean; maxExecutions?: number } = {}): CheckResult {
  const v = findVariant(variant)!;
  const model = prepare({ variant: v, scenario: findScenario(scenario)!, params: { cpus }, features: v.features, bounds: DEFAULT_BOUNDS });
  return search(model, {
    strategy,
    seed: opts.seed ?? 1,
    ...(opts.stateless ? { stateless: true } : {}),
    ...(opts.maxExecutions === undefined ? {} : { maxExecutions: opts.maxExecutions }),
  });
}

function row(r: CheckResult, strategy: string, note?: string): Row {
  const secs = Math.max(r.elapsedMs, 1) / 1000;
  return {
    scenario: r.scenario,
    cpus: r.cpus,
    variant: r.variant,
    strategy,
    verdict: r.verdict === 'violated' ? `violated ${r.violation?.invariant}` : r.verdict,
    executions: r.executions,
    steps: r.steps,
    states: r.states ?? null,
    elapsedMs: r.elapsedMs,
    executionsPerSec: Math.round(r.executions / secs),
    stepsPerSec: Math.round(r.steps / secs),
    peakMemMB: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(note ? { note } : {}),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

const rows: Row[] = [];
const cpuList = quick ? [2] : [2, 3];
for (const cpus of cpuList) {
  for (const scenario of ['switch-vs-flush', 'lazy-flush', 'lazy-free-pgtables']) {
    rows.push(row(run('linux-4.13', scenario, cpus, 'dfs'), 'dfs-stateful', 'time-to-verdict'));
  }
}
// Raw engine throughput: re-execution DFS with a fixed execution budget.
rows.push(row(run('linux-4.13', 'switch-vs-flush', 2, 'dfs', { stateless: true, maxExecutions: quick ? 2000 : 20000 }), 'dfs-stateless', 'throughput, budgeted'));
rows.push(row(run('linux-4.13', 'switch-vs-flush', 3, 'random', { maxExecutions: quick ? 500 : 5000 }), 'random', 'throughput, budgeted'));
// Time to first violation of each bug variant.
for (const variant of ['linux-4.13-flush-no-mb', 'linux-4.13-cr3-before-cpumask']) {
  for (const cpus of cpuList) {
    rows.push(row(run(variant, 'switch-vs-flush', cpus, 'dfs'), 'dfs-stateful', 'time-to-first-violation'));
    const runs: CheckResult[] = [];
    for (let seed = 1; seed <= 10; seed++) runs.push(run(variant, 'switch-vs-flush', cpus, 'random', { seed, maxExecutions: 100000 }));
    const total = (f: (r: CheckResult) => number) => runs.reduce((a, r) => a + f(r), 0);
    const secs = Math.max(total((r) => r.elapsedMs), 1) / 1000;
    const found = runs.filter((r) => r.verdict === 'violated').length;
    rows.push({
      ...row(runs[0]!, 'random'),
      verdict: `violated in ${found}/10 seeds`,
      executions: median(runs.map((r) => r.executions)),
      steps: median(runs.map((r) => r.steps)),
      elapsedMs: median(runs.map((r) => r.elapsedMs)),
      executionsPerSec: Math.round(total((r) => r.executions) / secs),
      stepsPerSec: Math.round(total((r) => r.steps) / secs),
      note: 'time-to-first-violation: median of seeds 1-10',
    });
  }
}

const machine = { cpu: os.cpus()[0]?.model ?? '?', cores: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}` };
if (json) {
  console.log(JSON.stringify({ machine, rows }, null, 1));
} else {
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}`);
  console.log(['scenario', 'cpus', 'variant', 'strategy', 'verdict', 'execs', 'steps', 'states', 'ms', 'exec/s', 'steps/s', 'MB', 'note'].join('\t'));
  for (const r of rows) {
    console.log([r.scenario, r.cpus, r.variant, r.strategy, r.verdict, r.executions, r.steps, r.states ?? '-', r.elapsedMs, r.executionsPerSec, r.stepsPerSec, r.peakMemMB, r.note ?? ''].join('\t'));
  }
}
