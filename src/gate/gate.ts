/**
 * The regression gate: the manifest (gate/manifest.json) lists the rows; the variants' `expect`
 * lists generate it. A row passes when the exhaustive search gives the expected verdict and,
 * for a `holds` row, the pinned counts. Rows whose manifest entry is out of date with the
 * variants (missing, stale, a variant that no longer exists) fail with a message saying so.
 * Cold code: ts-pattern is welcome here.
 */
import { match } from 'ts-pattern';
import { type CheckResult, search } from '../explore/check.ts';
import { prepare } from '../explore/engine.ts';
import type { StatefulProgress } from '../explore/stateful.ts';
import type { Expectation, Variant } from '../kernel/variant.ts';
import { DEFAULT_BOUNDS, type Bounds, type Features } from '../machine/types.ts';
import { findScenario } from '../scenario/index.ts';
import { readScenarioFile } from '../scenario/from-file.ts';
import { checkScenarioCalls } from '../scenario/resolve.ts';
import type { Scenario } from '../scenario/world.ts';
import { UserError } from '../errors.ts';
import { type Manifest, type ManifestRow, boundsOfJson, boundsToJson, rowKey } from './manifest.ts';

export type Expected =
  | { readonly verdict: 'holds' }
  | { readonly verdict: 'violated'; readonly invariant?: string }
  | { readonly verdict: 'inconclusive'; readonly reason: string };

/** A row of the variants' expect lists, resolved to full features and bounds. */
export interface ExpectRow {
  readonly variant: string;
  readonly scenario: string;
  readonly cpus: number;
  readonly features: Features;
  readonly bounds: Bounds;
  readonly expected: Expected;
  readonly maxStates?: number;
  /** A scenario file (absolute path) rather than a built-in scenario id. */
  readonly scenarioPath?: string;
}

export interface GateRow extends ExpectRow {
  /** Built-in id or absolute path: how a worker thread finds the variant. */
  readonly spec: string;
  readonly pin?: { readonly states: number; readonly executions: number };
  /** Why the row fails whatever the search says (the manifest is out of date). */
  readonly problem?: string;
  /** False when there is nothing to run (the variant no longer exists). */
  readonly runnable: boolean;
  /** Estimated cost (states) for scheduling shards and workers. */
  readonly cost: number;
}

const UPDATE = "run 'tlbcheck gate --update-pins' and commit gate/manifest.json";

export function expectedOf(e: Expectation): Expected {
  return match(e)
    .with({ verdict: 'holds' }, (): Expected => ({ verdict: 'holds' }))
    .with({ verdict: 'violated' }, (x): Expected => (x.invariant === undefined ? { verdict: 'violated' } : { verdict: 'violated', invariant: x.invariant }))
    .with({ verdict: 'inconclusive' }, (x): Expected => ({ verdict: 'inconclusive', reason: x.reason ?? 'no reason given' }))
    .exhaustive();
}

export function expectedText(e: Expected): string {
  return match(e)
    .with({ verdict: 'holds' }, () => 'holds')
    .with({ verdict: 'violated' }, (x) => (x.invariant === undefined ? 'violates' : `violates ${x.invariant}`))
    .with({ verdict: 'inconclusive' }, () => 'inconclusive')
    .exhaustive();
}

function expectedOfManifest(r: ManifestRow): Expected {
  if (r.expected === 'holds') return { verdict: 'holds' };
  if (r.expected === 'inconclusive') return { verdict: 'inconclusive', reason: r.reason ?? 'no reason given' };
  const inv = r.expected.slice('violates '.length);
  return inv.length > 0 && r.expected !== 'violates' ? { verdict: 'violated', invariant: inv } : { verdict: 'violated' };
}

export function actualText(r: CheckResult): string {
  return match(r.verdict)
    .with('violated', () => `violates ${r.violation?.invariant ?? '?'}`)
    .with('inconclusive', () => `inconclusive (${r.reason ?? '?'})`)
    .otherwise((v) => v);
}

export function verdictMatches(e: Expected, r: CheckResult): boolean {
  return match(e)
    .with({ verdict: 'holds' }, () => r.verdict === 'holds')
    .with({ verdict: 'violated' }, (x) => r.verdict === 'violated' && (x.invariant === undefined || r.violation?.invariant === x.invariant))
    .with({ verdict: 'inconclusive' }, () => r.verdict === 'inconclusive')
    .exhaustive();
}

export function expectRows(variants: readonly Variant[]): ExpectRow[] {
  return variants.flatMap((v) =>
    v.expect.map((e): ExpectRow => {
      const row: ExpectRow = {
        variant: v.id,
        scenario: e.scenario,
        cpus: e.cpus,
        features: { ...v.features, ...e.features },
        bounds: { ...DEFAULT_BOUNDS, ...e.bounds },
        expected: expectedOf(e),
      };
      return e.maxStates === undefined ? row : { ...row, maxStates: e.maxStates };
    }),
  );
}

/** The manifest row for an expectation and the result of its search (for --update-pins). */
export function manifestRowOf(e: ExpectRow, r: CheckResult): ManifestRow {
  const row: ManifestRow = {
    variant: e.variant,
    scenario: e.scenario,
    cpus: e.cpus,
    features: { ...e.features },
    bounds: boundsToJson(e.bounds),
    expected: expectedText(e.expected),
  };
  const withReason = e.expected.verdict === 'inconclusive' ? { ...row, reason: e.expected.reason } : row;
  const withBudget = e.maxStates === undefined ? withReason : { ...withReason, maxStates: e.maxStates };
  if (e.expected.verdict === 'holds') return { ...withBudget, states: r.states ?? 0, executions: r.executions };
  return { ...withBudget, costStates: r.states ?? r.executions };
}

const DEFAULT_COST = 1000;

/** The built-in gate: the manifest's rows in order, then expectations the manifest lacks. */
export function planBuiltin(manifest: Manifest, variants: readonly Variant[]): GateRow[] {
  const expects = new Map(expectRows(variants).map((e) => [rowKey(e), e]));
  const ids = new Set(variants.map((v) => v.id));
  const rows: GateRow[] = [];
  const seen = new Set<string>();
  for (const m of manifest.rows) {
    const bounds = boundsOfJson(m.bounds);
    const base = { variant: m.variant, scenario: m.scenario, cpus: m.cpus, features: m.features, bounds };
    const key = rowKey(base);
    seen.add(key);
    const e = expects.get(key);
    const expected = expectedOfManifest(m);
    let problem: string | undefined;
    if (!ids.has(m.variant)) problem = `variant ${m.variant} no longer exists; ${UPDATE} to drop the row`;
    else if (!e) problem = `${m.variant} no longer lists this expectation; ${UPDATE}`;
    else if (expectedText(e.expected) !== m.expected) problem = `the manifest expects '${m.expected}' but ${m.variant} now expects '${expectedText(e.expected)}'; ${UPDATE}`;
    const pin = m.states !== undefined && m.executions !== undefined && expected.verdict === 'holds' ? { states: m.states, executions: m.executions } : undefined;
    rows.push({
      ...base,
      expected,
      spec: m.variant,
      runnable: ids.has(m.variant),
      cost: m.states ?? m.costStates ?? DEFAULT_COST,
      ...(m.maxStates === undefined ? {} : { maxStates: m.maxStates }),
      ...(pin ? { pin } : {}),
      ...(problem === undefined ? {} : { problem }),
    });
  }
  for (const [key, e] of expects) {
    if (seen.has(key)) continue;
    // Not run: the gate runs the manifest; --update-pins runs and pins it.
    rows.push({ ...e, spec: e.variant, runnable: false, cost: 1, problem: `not in gate/manifest.json; ${UPDATE}` });
  }
  return rows;
}

/**
 * A user's variant (a file): every manifest row its base holds on, expected to hold, plus the
 * file's own expectations. No pins: its counts are shown, not checked.
 */
export function planUser(variant: Variant, path: string, manifest: Manifest, spec: string): GateRow[] {
  const base = variant.base;
  const own = expectRows([variant]);
  const baseRows = manifest.rows
    .filter((m) => m.variant === base && m.expected === 'holds')
    .map((m): ExpectRow => ({ variant: variant.id, scenario: m.scenario, cpus: m.cpus, features: m.features, bounds: boundsOfJson(m.bounds), expected: { verdict: 'holds' } }));
  const byKey = new Map<string, ExpectRow>();
  for (const r of [...baseRows, ...own]) byKey.set(rowKey(r), r);
  if (byKey.size === 0) {
    throw new UserError(`variant file ${spec}: ${base === undefined ? 'no base variant (make it with derive(...))' : `its base ${base} holds on no row of the manifest`}, and it lists no expectations`);
  }
  const cost = new Map(manifest.rows.map((m) => [rowKey({ ...m, variant: variant.id, bounds: boundsOfJson(m.bounds) }), m.states ?? m.costStates ?? DEFAULT_COST]));
  return [...byKey.values()].map((r) => ({ ...r, spec: path, runnable: true, cost: cost.get(rowKey(r)) ?? DEFAULT_COST }));
}

export interface Judgement {
  readonly ok: boolean;
  readonly actual: string;
  readonly problems: readonly string[];
}

export function judge(row: GateRow, r: CheckResult | undefined): Judgement {
  const problems: string[] = row.problem === undefined ? [] : [row.problem];
  if (!r) return { ok: false, actual: 'not run', problems };
  if (!verdictMatches(row.expected, r)) problems.push(`expected ${expectedText(row.expected)}, got ${actualText(r)}`);
  else if (row.pin && r.verdict === 'holds' && (r.states !== row.pin.states || r.executions !== row.pin.executions)) {
    problems.push(
      `pinned ${row.pin.states} states / ${row.pin.executions} executions, got ${r.states ?? '?'} / ${r.executions}: ` +
        `the model's atomicity or the search changed; if intended, ${UPDATE} in the same commit`,
    );
  }
  return { ok: problems.length === 0, actual: actualText(r), problems };
}

export interface RunOptions {
  readonly timeMs?: number;
  readonly progress?: (p: StatefulProgress) => void;
}

/** The scenario of a row: its file when it has one, else the built-in of that id. */
export function rowScenario(row: ExpectRow): Scenario | undefined {
  return row.scenarioPath === undefined ? findScenario(row.scenario) : readScenarioFile(row.scenarioPath);
}

/**
 * `gate --scenario FILE`: the file's expect lines (only those of `variants`, when given), and
 * for each given variant the file says nothing of, "holds" at the scenario's default CPUs. No
 * pins: the counts are shown, not checked.
 */
export function planScenarioFile(
  scenario: Scenario,
  path: string,
  variants: readonly { readonly variant: Variant; readonly spec: string }[] | undefined,
  builtin: (id: string) => Variant | undefined,
  featuresOn: (spec: string | undefined, base: Features) => Features,
): GateRow[] {
  const rows: GateRow[] = [];
  const needs = (f: Features): Features => featuresOn((scenario.features ?? []).join(','), f);
  const add = (v: Variant, spec: string, e: { cpus?: number; features?: string; verdict: 'holds' | 'violated'; invariant?: string }) => {
    const cpus = e.cpus ?? scenario.cpus.default;
    if (cpus < scenario.cpus.min || cpus > scenario.cpus.max) throw new UserError(`${path}: expect for ${v.id}: cpus ${cpus} is out of range (${scenario.cpus.min}-${scenario.cpus.max})`);
    const expected: Expected = e.verdict === 'holds' ? { verdict: 'holds' } : e.invariant === undefined ? { verdict: 'violated' } : { verdict: 'violated', invariant: e.invariant };
    const features = featuresOn(e.features, needs(v.features));
    checkScenarioCalls(scenario, v);
    rows.push({ variant: v.id, scenario: scenario.id, scenarioPath: path, cpus, features, bounds: DEFAULT_BOUNDS, expected, spec, runnable: true, cost: DEFAULT_COST });
  };
  const given = variants ?? [];
  for (const e of scenario.expect ?? []) {
    const mine = variants === undefined ? undefined : given.find((g) => g.variant.id === e.variant);
    if (variants !== undefined && !mine) continue;
    const v = mine?.variant ?? builtin(e.variant);
    if (!v) throw new UserError(`${path}: expect names variant '${e.variant}', which is not built in (pass it with --variant PATH)`);
    add(v, mine?.spec ?? e.variant, e);
  }
  for (const g of given) if (!(scenario.expect ?? []).some((e) => e.variant === g.variant.id)) add(g.variant, g.spec, { verdict: 'holds' });
  if (rows.length === 0) throw new UserError(`${path}: no rows: the scenario lists no expectations (add "expect" to it, or pass --variant)`);
  return rows;
}

export function runRow(row: ExpectRow, variant: Variant, opt: RunOptions = {}): CheckResult {
  const scenario = rowScenario(row);
  if (!scenario) throw new UserError(`row ${row.variant} names unknown scenario '${row.scenario}'`);
  if (row.cpus < scenario.cpus.min || row.cpus > scenario.cpus.max) {
    throw new UserError(`row ${row.variant} ${row.scenario}: cpus ${row.cpus} is out of range (${scenario.cpus.min}-${scenario.cpus.max})`);
  }
  const model = prepare({ variant, scenario, params: { cpus: row.cpus }, features: row.features, bounds: row.bounds });
  return search(model, {
    strategy: 'dfs',
    seed: 0,
    ...(opt.timeMs === undefined ? {} : { timeMs: opt.timeMs }),
    ...(row.maxStates === undefined ? {} : { maxStates: row.maxStates }),
    ...(opt.progress === undefined ? {} : { progress: opt.progress }),
  });
}
