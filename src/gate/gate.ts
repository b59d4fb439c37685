/**
 * The regression gate: every expectation of every variant is a row; a row passes when the
 * exhaustive search gives the expected verdict (and, for a violation, the expected invariant).
 */
import { match } from 'ts-pattern';
import { type CheckResult, search } from '../explore/check.ts';
import { prepare } from '../explore/engine.ts';
import type { Expectation, Variant } from '../kernel/variant.ts';
import { DEFAULT_BOUNDS, type Bounds, type Features } from '../machine/types.ts';
import { findScenario } from '../scenario/index.ts';
import { UserError } from '../errors.ts';

export interface GateRow {
  readonly variant: Variant;
  readonly expect: Expectation;
  readonly features: Features;
  readonly bounds: Bounds;
}

export interface GateResult {
  readonly row: GateRow;
  readonly actual: CheckResult;
  readonly ok: boolean;
}

export function rowsOf(variants: readonly Variant[]): GateRow[] {
  const rows: GateRow[] = [];
  for (const variant of variants) {
    for (const expect of variant.expect) {
      rows.push({
        variant,
        expect,
        features: { ...variant.features, ...expect.features },
        bounds: { ...DEFAULT_BOUNDS, ...expect.bounds },
      });
    }
  }
  return rows;
}

export function expectedText(e: Expectation): string {
  return e.verdict === 'holds' ? 'holds' : `violates ${e.invariant ?? '?'}`;
}

export function actualText(r: CheckResult): string {
  return match(r.verdict)
    .with('violated', () => `violates ${r.violation?.invariant ?? '?'}`)
    .with('inconclusive', () => `inconclusive (${r.reason ?? '?'})`)
    .otherwise((v) => v);
}

export function matches(e: Expectation, r: CheckResult): boolean {
  return match(e)
    .with({ verdict: 'holds' }, () => r.verdict === 'holds')
    .with({ verdict: 'violated' }, (x) => r.verdict === 'violated' && (x.invariant === undefined || r.violation?.invariant === x.invariant))
    .exhaustive();
}

export function runRow(row: GateRow, timeMs?: number): GateResult {
  const scenario = findScenario(row.expect.scenario);
  if (!scenario) throw new UserError(`variant ${row.variant.id} expects unknown scenario '${row.expect.scenario}'`);
  const model = prepare({ variant: row.variant, scenario, params: { cpus: row.expect.cpus }, features: row.features, bounds: row.bounds });
  const actual = search(model, timeMs === undefined ? { strategy: 'dfs', seed: 0 } : { strategy: 'dfs', seed: 0, timeMs });
  return { row, actual, ok: matches(row.expect, actual) };
}
