/**
 * Every row of the gate manifest (gate/manifest.json) gets its expected verdict by exhaustive
 * search within its bounds, and every `holds` row its pinned counts: a change in a routine's
 * atomicity or in the search shows up here as a changed count, until the pin is updated with
 * `tlbcheck gate --update-pins` in the same commit. The manifest and the variants' expect lists
 * must agree: no expectation without a row, no row without a live variant.
 */
import { describe, expect, it } from 'vitest';
import { expectedText, judge, planBuiltin, runRow } from '../src/gate/gate.ts';
import { readFileSync } from 'node:fs';
import { DEFAULT_MANIFEST, formatManifest, loadManifest } from '../src/gate/manifest.ts';
import { VARIANTS, findVariant } from '../src/kernel/index.ts';
import { checkVariant } from './helpers.ts';

const plan = planBuiltin(loadManifest(DEFAULT_MANIFEST), VARIANTS);

describe('the gate manifest agrees with the variants', () => {
  it('every expectation has a manifest row and every manifest row a live expectation', () => {
    expect(plan.filter((r) => r.problem !== undefined).map((r) => `${r.variant} ${r.scenario} c${r.cpus}: ${r.problem}`)).toEqual([]);
    expect(plan.length).toBe(VARIANTS.reduce((n, v) => n + v.expect.length, 0));
  });

  it('the file is as --update-pins writes it (one row per line, keys in order)', () => {
    expect(readFileSync(DEFAULT_MANIFEST, 'utf8')).toBe(formatManifest(loadManifest(DEFAULT_MANIFEST)));
  });

  it('every holds row carries pinned state and execution counts', () => {
    for (const r of plan.filter((x) => x.expected.verdict === 'holds')) expect(r.pin, `${r.variant} ${r.scenario} c${r.cpus}`).toBeDefined();
  });
});

describe('expected verdicts and pinned counts of the built-in variants', () => {
  for (const row of plan) {
    it(`${row.variant} ${row.scenario} ${row.cpus}: ${expectedText(row.expected)}${row.pin ? ` (${row.pin.states} states)` : ''}`, () => {
      const r = runRow(row, findVariant(row.variant)!);
      if (row.expected.verdict === 'holds') expect(r.violation?.message ?? 'none').toBe('none');
      if (row.pin) expect([r.states, r.executions]).toEqual([row.pin.states, row.pin.executions]);
      expect(judge(row, r).problems).toEqual([]);
    });
  }

  it('every bug variant names the variant that fixes it, and that one holds where the bug does not', () => {
    const bugs = VARIANTS.filter((v) => v.kind === 'bug');
    expect(bugs.length).toBeGreaterThanOrEqual(2);
    for (const b of bugs) {
      const fix = VARIANTS.find((v) => v.id === b.fixedBy);
      expect(fix, b.id).toBeDefined();
      for (const e of b.expect.filter((x) => x.verdict === 'violated' && x.cpus === 2)) {
        expect(checkVariant(fix!, e.scenario, e.cpus).verdict).toBe('holds');
      }
    }
  });
});
