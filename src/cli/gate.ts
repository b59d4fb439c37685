/**
 * `tlbcheck gate`: run the manifest (gate/manifest.json) or a user's variant over the rows its
 * base holds on; print the table and what was covered; save counterexamples of mismatches;
 * optionally JSON, JUnit, a shard, worker threads. `--update-pins` regenerates the manifest
 * from the variants' expect lists.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ensureDir } from '../files.ts';
import { dirname, relative, resolve } from 'node:path';
import { buildCounterexample, saveCounterexample } from '../counterexample/counterexample.ts';
import { UserError } from '../errors.ts';
import type { CheckResult } from '../explore/check.ts';
import { prepare } from '../explore/engine.ts';
import { allBuiltins } from '../kc/builtins.ts';
import { resolveVariant } from '../kernel/load.ts';
import type { Variant } from '../kernel/variant.ts';
import { isScenarioPath, resolveScenario } from '../scenario/resolve.ts';
import { parseFeatures } from './options.ts';
import { type GateRow, expectRows, judge, manifestRowOf, planBuiltin, planScenarioFile, planUser, rowScenario, verdictMatches } from '../gate/gate.ts';
import type { JobProgress, JobSpec } from '../gate/job.ts';
import { JUNIT_SUITES_NAME, junitXml } from '../gate/junit.ts';
import { DEFAULT_MANIFEST, type ManifestRow, boundsOfJson, loadManifest, rowKey, saveManifest } from '../gate/manifest.ts';
import { type PoolResult, runJobs } from '../gate/pool.ts';
import { type RowReport, coveredText, fileOf, junitCases, replayCommand, rowJson, tableText } from '../gate/report.ts';
import { type Shard, shardRows } from '../gate/shard.ts';
import type { Io } from './main.ts';
import { progressText } from '../report/progress.ts';

export interface GateOpts {
  readonly variant?: string[];
  readonly time?: number;
  readonly json?: boolean;
  readonly junit?: string;
  readonly shard?: Shard;
  readonly workers?: number;
  readonly out?: string;
  readonly manifest?: string;
  readonly updatePins?: boolean;
  readonly seed?: number;
  /** Only the rows of this scenario; a scenario file gets its own rows (planScenarioFile). */
  readonly scenario?: string;
  /** Seconds a routine may run without yielding an effect before the row is stopped. */
  readonly stall?: number;
}

/** Random probes per row for the size estimate of the progress line. */
const PROBES = 64;

export async function runGate(io: Io, o: GateOpts): Promise<number> {
  const manifestPath = o.manifest === undefined ? DEFAULT_MANIFEST : resolve(o.manifest);
  if (o.updatePins && o.scenario !== undefined) throw new UserError('--update-pins regenerates the whole manifest: it takes no --scenario');
  if (o.updatePins) return updatePins(io, o, manifestPath);
  if (o.manifest !== undefined && !existsSync(manifestPath)) throw new UserError(`manifest not found: ${o.manifest}`);
  const manifest = loadManifest(manifestPath);
  // Built here, not at import: the other commands build only the variant they run.
  const builtins = await allBuiltins();
  const variants = new Map<string, Variant>(builtins.map((v) => [v.id, v]));
  let plan: GateRow[];
  if (o.scenario !== undefined && isScenarioPath(o.scenario)) {
    const scenario = resolveScenario(o.scenario);
    const given: { variant: Variant; spec: string }[] = [];
    for (const spec of o.variant ?? []) {
      const { variant, path } = await resolveVariant(spec);
      if (path !== undefined) variants.set(path, variant);
      given.push({ variant, spec: path ?? variant.id });
    }
    const byId = (id: string) => variants.get(id);
    plan = planScenarioFile(scenario, resolve(o.scenario), o.variant ? given : undefined, byId, (f, base) => (f === undefined ? base : parseFeatures(f, base)));
  } else if (!o.variant) plan = planBuiltin(manifest, builtins);
  else {
    plan = [];
    const builtin = planBuiltin(manifest, builtins);
    for (const spec of o.variant) {
      const { variant, path } = await resolveVariant(spec);
      if (path === undefined) {
        const mine = builtin.filter((r) => r.variant === variant.id);
        if (mine.length === 0) throw new UserError(`variant ${variant.id} has no rows in the manifest`);
        plan.push(...mine);
      } else {
        variants.set(path, variant);
        plan.push(...planUser(variant, path, manifest, spec));
      }
    }
  }
  if (o.scenario !== undefined && !isScenarioPath(o.scenario)) {
    const id = resolveScenario(o.scenario).id;
    plan = plan.filter((r) => r.scenario === id);
    if (plan.length === 0) throw new UserError(`no gate rows on scenario ${id}${o.variant ? ' for these variants' : ''}`);
  }
  const rows = shardRows(plan, o.shard);
  const t0 = Date.now();
  const { results, interrupted } = await runRows(io, o, rows);
  const outDir = o.out ?? 'out/gate';
  // After Ctrl-C, the rows that never ran are left out of the report, not counted as failures.
  const ran = interrupted ? rows.flatMap((row, i) => (results.has(i) ? [{ row, i }] : [])) : rows.map((row, i) => ({ row, i }));
  // A file that cannot be saved is reported after the table, never instead of it.
  const saveErrors: string[] = [];
  const reports: RowReport[] = ran.map(({ row, i }) => {
    const result = results.get(i);
    const judgement = judge(row, result);
    let ce: string | undefined;
    try {
      ce = judgement.ok || !result ? undefined : saveMismatch(row, result, variants, outDir);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      saveErrors.push(e.message);
    }
    return ce === undefined ? { row, judgement, ...(result ? { result } : {}) } : { row, judgement, ...(result ? { result } : {}), counterexample: ce };
  });
  const failed = reports.filter((r) => !r.judgement.ok).length;
  const elapsedMs = Date.now() - t0;
  const scope = o.shard ? `shard ${o.shard.index}/${o.shard.count}: ${rows.length} of ${plan.length} rows` : `${rows.length} row${rows.length === 1 ? "" : "s"}`;
  const finish = (code: number): number => {
    if (o.junit !== undefined) {
      try {
        writeJunit(o.junit, junitXml(`${JUNIT_SUITES_NAME}${o.shard ? ` shard ${o.shard.index}/${o.shard.count}` : ''}`, junitCases(reports)));
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        saveErrors.push(e.message);
      }
    }
    for (const m of saveErrors) io.err(`tlbcheck: ${m}`);
    return saveErrors.length > 0 ? 2 : code;
  };
  if (o.json) {
    const summary = {
      rows: reports.length,
      passed: reports.length - failed,
      failed,
      manifestRows: plan.length,
      shard: o.shard ? `${o.shard.index}/${o.shard.count}` : null,
      workers: o.workers ?? 1,
      elapsedMs,
      covered: coveredText(reports).slice(1).map((s) => s.trim()),
    };
    io.out(JSON.stringify({ rows: reports.map(rowJson), summary: { ...summary, interrupted } }));
    return finish(interrupted ? 130 : failed === 0 ? 0 : 1);
  }
  for (const l of tableText(reports)) io.out(l);
  for (const r of reports.filter((x) => !x.judgement.ok)) {
    io.out('');
    io.out(`MISMATCH ${r.row.variant} on ${r.row.scenario} (cpus ${r.row.cpus}):`);
    for (const p of r.judgement.problems) io.out(`  ${p}`);
    if (r.result?.violation) io.out(`  ${r.result.violation.invariant}: ${r.result.violation.message}`);
    if (r.counterexample !== undefined) {
      io.out(`  counterexample: ${r.counterexample}`);
      io.out(`  replay: ${replayCommand(r.counterexample, fileOf(r.row))}`);
    }
  }
  io.out('');
  io.out(`${reports.length - failed}/${reports.length} rows as expected (${scope}, ${o.workers ?? 1} worker${(o.workers ?? 1) > 1 ? 's' : ''}, ${(elapsedMs / 1000).toFixed(1)} s).`);
  for (const l of coveredText(reports)) io.out(l);
  if (interrupted) {
    io.out(`INTERRUPTED: ${reports.length} of ${rows.length} rows ran; rows stopped early show what they covered`);
    return finish(130);
  }
  return finish(failed === 0 ? 0 : 1);
}

async function runRows(io: Io, o: GateOpts, rows: readonly GateRow[]): Promise<PoolResult> {
  const seed = o.seed ?? 1;
  const showProgress = io.status !== undefined && !o.json;
  const jobs: JobSpec[] = rows
    .map((row, index) => ({ row, index }))
    .filter((x) => x.row.runnable)
    .sort((a, b) => b.row.cost - a.row.cost || a.index - b.index)
    .map(({ row, index }) => ({
      index,
      spec: row.spec,
      row,
      ...(o.time === undefined ? {} : { timeMs: o.time * 1000 }),
      ...(showProgress ? { progress: { probes: PROBES, seed } } : {}),
    }));
  let done = 0;
  const onProgress = (e: JobProgress): void => {
    const row = rows[e.index];
    if (!row || !io.status) return;
    io.status(`[${done}/${jobs.length} rows] ${row.variant} ${row.scenario} c${row.cpus}: ${progressText(e.p, e.estimate)}`);
  };
  try {
    return await runJobs(jobs, { workers: o.workers ?? 1, ...(o.stall === undefined ? {} : { stallMs: o.stall * 1000 }), ...(showProgress ? { onProgress } : {}), onDone: () => void done++ });
  } finally {
    if (showProgress) io.status?.('');
  }
}

/** Save the counterexample of a row that violated where it should not have. */
function saveMismatch(row: GateRow, r: CheckResult, variants: ReadonlyMap<string, Variant>, outDir: string): string | undefined {
  if (!r.violation || !r.tape || !r.widths) return undefined;
  if (row.expected.verdict === 'violated' && verdictMatches(row.expected, r)) return undefined;
  const variant = variants.get(row.spec);
  const scenario = rowScenario(row);
  if (!variant || !scenario) return undefined;
  const model = prepare({ variant, scenario, params: { cpus: row.cpus }, features: row.features, bounds: row.bounds });
  const rel = row.spec === row.variant ? undefined : relative(resolve(outDir), row.spec);
  const ce = buildCounterexample(model, { violation: r.violation, tape: r.tape, widths: r.widths, strategy: 'dfs', seed: 0 }, rel);
  return saveCounterexample(ce, outDir).path;
}

/** Write a JUnit report, but never over a file that is not an earlier gate report. */
function writeJunit(path: string, xml: string): void {
  if (existsSync(path)) {
    let old = '';
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      old = '';
    }
    if (!old.includes(`<testsuites name="${JUNIT_SUITES_NAME}"`)) throw new UserError(`--junit ${path}: the file exists and is not a tlbcheck gate report; not overwriting it`);
  }
  ensureDir(dirname(resolve(path)));
  try {
    writeFileSync(path, xml);
  } catch (e) {
    throw new UserError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** `--update-pins`: run every expectation of every variant and rewrite the manifest. */
async function updatePins(io: Io, o: GateOpts, manifestPath: string): Promise<number> {
  if (o.variant || o.shard || o.time !== undefined) throw new UserError('--update-pins regenerates the whole manifest: it takes no --variant, --shard or --time');
  const old = loadManifest(manifestPath);
  const expects = expectRows(await allBuiltins());
  const gateRows: GateRow[] = expects.map((e) => ({ ...e, spec: e.variant, runnable: true, cost: 0 }));
  const oldCost = new Map(old.rows.map((m) => [keyOf(m), m.states ?? m.costStates ?? 0]));
  const withCost = gateRows.map((r) => ({ ...r, cost: oldCost.get(rowKey(r)) ?? 0 }));
  const { results, interrupted } = await runRows(io, o, withCost);
  if (interrupted) {
    io.err(`tlbcheck: interrupted: ${manifestPath} not rewritten`);
    return 130;
  }
  const rows: ManifestRow[] = [];
  const wrong: string[] = [];
  expects.forEach((e, i) => {
    const r = results.get(i);
    if (!r) throw new Error(`[tlbcheck bug] --update-pins: row ${i} did not run`);
    if (!verdictMatches(e.expected, r)) wrong.push(`${rowKey(e)}: expected ${judge(withCost[i]!, r).problems.join('; ')}`);
    rows.push(manifestRowOf(e, r));
  });
  if (wrong.length > 0) {
    for (const w of wrong) io.err(`tlbcheck: ${w}`);
    io.err(`tlbcheck: not writing ${manifestPath}: ${wrong.length} row(s) do not get their expected verdict; fix the variant or its expect list first`);
    return 1;
  }
  const before = new Map(old.rows.map((m) => [keyOf(m), m]));
  const changes: string[] = [];
  for (const m of rows) {
    const k = keyOf(m);
    const b = before.get(k);
    if (!b) changes.push(`+ ${k}`);
    else if (JSON.stringify(b) !== JSON.stringify(m)) changes.push(`~ ${k}: ${b.expected} ${b.states ?? '-'}/${b.executions ?? '-'} -> ${m.expected} ${m.states ?? '-'}/${m.executions ?? '-'}`);
    before.delete(k);
  }
  for (const k of before.keys()) changes.push(`- ${k}`);
  saveManifest(manifestPath, { rows });
  if (o.json) io.out(JSON.stringify({ manifest: manifestPath, rows: rows.length, changes }));
  else {
    io.out(`wrote ${manifestPath}: ${rows.length} rows, ${changes.length === 0 ? 'no change' : `${changes.length} change(s)`}`);
    for (const c of changes) io.out(`  ${c}`);
  }
  return 0;
}

const keyOf = (m: ManifestRow): string => rowKey({ ...m, bounds: boundsOfJson(m.bounds) });
