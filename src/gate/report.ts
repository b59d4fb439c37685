/**
 * Renderings of a gate run: the table, the statement of what was covered, the JSON report and
 * the JUnit cases. Pure functions over results; only the CLI prints.
 */
import type { CheckResult } from '../explore/check.ts';
import { formatBounds, formatFeatures } from '../machine/types.ts';
import { boundsToJson } from './manifest.ts';
import { type GateRow, type Judgement, expectedText } from './gate.ts';
import type { JunitCase } from './junit.ts';
import { columns } from '../report/columns.ts';

export interface RowReport {
  readonly row: GateRow;
  readonly result?: CheckResult;
  readonly judgement: Judgement;
  readonly counterexample?: string;
}

const secs = (ms: number): string => (ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`);

export function tableText(reports: readonly RowReport[]): string[] {
  // Rows that differ only in features (e.g. kaiser-invpcid with and without INVPCID) need that column.
  const head = ['variant', 'scenario', 'cpus', 'features', 'expected', 'actual', 'executions', 'states', 'time'];
  const cells = reports.map((r) => [
    r.row.variant,
    r.row.scenario,
    String(r.row.cpus),
    formatFeatures(r.row.features),
    expectedText(r.row.expected),
    `${r.judgement.ok ? '' : '!! '}${r.judgement.actual}`,
    r.result ? String(r.result.executions) : '-',
    r.result?.states === undefined ? '-' : String(r.result.states),
    r.result ? secs(r.result.elapsedMs) : '-',
  ]);
  return columns([head, ...cells], new Set([2, 6, 7, 8]));
}

const cpusOf = (rs: readonly RowReport[]): string => [...new Set(rs.map((r) => r.row.cpus))].sort((a, b) => a - b).join(', ');

/** "linux-4.12 on switch-vs-flush (cpus 2, 3), lazy-flush (cpus 2); linux-4.13 on ..." */
function listOf(rs: readonly RowReport[], withInvariant: boolean): string {
  const byVariant = new Map<string, Map<string, RowReport[]>>();
  for (const r of rs) {
    const inv = withInvariant && r.result?.violation ? ` [${r.result.violation.invariant}]` : '';
    const v = byVariant.get(r.row.variant) ?? new Map<string, RowReport[]>();
    const k = `${r.row.scenario}${inv}`;
    v.set(k, [...(v.get(k) ?? []), r]);
    byVariant.set(r.row.variant, v);
  }
  return [...byVariant].map(([v, s]) => `${v} on ${[...s].map(([k, x]) => `${k} (cpus ${cpusOf(x)})`).join(', ')}`).join('; ');
}

/** The exact statement of what the run covered, grouped by bounds and features. */
export function coveredText(reports: readonly RowReport[]): string[] {
  const out: string[] = ['Covered:'];
  const groups = new Map<string, RowReport[]>();
  for (const r of reports) {
    if (!r.result) continue;
    const k = `${formatBounds(r.row.bounds)}; features ${formatFeatures(r.row.features)}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  for (const [bounds, rs] of groups) {
    const held = rs.filter((r) => r.result?.verdict === 'holds');
    const found = rs.filter((r) => r.result?.verdict === 'violated');
    const open = rs.filter((r) => r.result?.verdict === 'inconclusive');
    out.push(`  with ${bounds}:`);
    if (held.length > 0) {
      const p = Math.max(...held.map((r) => r.result?.collisionProbability ?? 0));
      out.push(`    proved: all interleavings of the CPUs' programs, store-buffer drains, IPI deliveries and speculative walks explored (exhaustive stateful DFS) for ${listOf(held, false)}; fingerprint-collision probability <= ${p.toExponential(1)} per row`);
    }
    if (found.length > 0) out.push(`    violated (each search stopped at its first violation): ${listOf(found, true)}`);
    if (open.length > 0) out.push(`    not proved (search stopped early): ${open.map((r) => `${r.row.variant} on ${r.row.scenario} (cpus ${r.row.cpus}): ${r.result?.reason ?? '?'}`).join('; ')}`);
  }
  const skipped = reports.filter((r) => !r.result);
  if (skipped.length > 0) out.push(`  not run: ${skipped.map((r) => `${r.row.variant} ${r.row.scenario} (cpus ${r.row.cpus})`).join('; ')}`);
  out.push('  randomized rows: none, so no PCT miss-probability bound applies.');
  return out;
}

export function rowJson(r: RowReport): Record<string, unknown> {
  const res = r.result;
  return {
    variant: r.row.variant,
    scenario: r.row.scenario,
    cpus: r.row.cpus,
    features: r.row.features,
    bounds: boundsToJson(r.row.bounds),
    expected: expectedText(r.row.expected),
    actual: r.judgement.actual,
    ok: r.judgement.ok,
    executions: res?.executions ?? null,
    states: res?.states ?? null,
    transitions: res?.transitions ?? null,
    pinned: r.row.pin ?? null,
    elapsedMs: res?.elapsedMs ?? null,
    invariant: res?.violation?.invariant ?? null,
    problems: r.judgement.problems,
    counterexample: r.counterexample ?? null,
    replay: r.counterexample === undefined ? null : replayCommand(r.counterexample, fileOf(r.row)),
  };
}

/** The variant file of a row (undefined for a built-in variant). */
export const fileOf = (row: GateRow): string | undefined => (row.spec === row.variant ? undefined : row.spec);

/** The command that replays a saved counterexample; a variant file must be named again (replay never imports a path from the file). */
export const replayCommand = (path: string, variantFile?: string): string => `npx tlbcheck replay ${path}${variantFile === undefined ? '' : ` --variant ${variantFile}`}`;

export function junitCases(reports: readonly RowReport[]): JunitCase[] {
  return reports.map((r) => {
    const name = `${r.row.scenario} cpus=${r.row.cpus} [${formatFeatures(r.row.features)}] [${formatBounds(r.row.bounds)}]`;
    const seconds = (r.result?.elapsedMs ?? 0) / 1000;
    const output = `expected ${expectedText(r.row.expected)}, actual ${r.judgement.actual}; ${r.result ? `${r.result.executions} executions, ${r.result.states ?? '-'} states` : 'not run'}`;
    if (r.judgement.ok) return { classname: r.row.variant, name, seconds, output };
    const details = [...r.judgement.problems, ...(r.counterexample ? [`counterexample: ${r.counterexample}`, `replay: ${replayCommand(r.counterexample, fileOf(r.row))}`] : [])].join('\n');
    return { classname: r.row.variant, name, seconds, output, failure: { message: r.judgement.problems[0] ?? 'mismatch', details } };
  });
}
