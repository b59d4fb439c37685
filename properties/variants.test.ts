/**
 * Every built-in variant gets the verdict it expects on every scenario it names, by exhaustive
 * search within the default bounds. Base variants also have their state counts pinned: a
 * change in a routine's atomicity or in the search shows up here as a changed count.
 */
import { describe, expect, it } from 'vitest';
import { VARIANTS } from '../src/kernel/index.ts';
import { checkVariant } from './helpers.ts';

/** Distinct states of the stateful search at the default bounds (tripwire). */
const PINNED: Record<string, number> = {
  'linux-4.12 switch-vs-flush 2': 168,
  'linux-4.12 switch-vs-flush-local 2': 426,
  'linux-4.12 lazy-flush 2': 217,
  'linux-4.12 lazy-free-pgtables 2': 110,
  'linux-4.13 switch-vs-flush 2': 194,
  'linux-4.13 switch-vs-flush-local 2': 568,
  'linux-4.13 lazy-flush 2': 220,
  'linux-4.13 lazy-free-pgtables 2': 115,
  'linux-4.14 switch-vs-flush 2': 189,
  'linux-4.14 switch-vs-flush-local 2': 593,
  'linux-4.14 lazy-flush 2': 456,
  'linux-4.14 lazy-free-pgtables 2': 117,
  'linux-4.14 asid-reuse 2': 642,
  'linux-4.14 concurrent-flushes 2': 3548,
  'linux-4.20 switch-vs-flush 2': 242,
  'linux-4.20 switch-vs-flush-local 2': 930,
  'linux-4.20 lazy-flush 2': 745,
  'linux-4.20 lazy-free-pgtables 2': 238,
  'linux-4.20 asid-reuse 2': 854,
  'linux-4.20 concurrent-flushes 2': 4470,
  'linux-6.18 switch-vs-flush 2': 601,
  'linux-6.18 switch-vs-flush-local 2': 5939,
  'linux-6.18 lazy-flush 2': 873,
  'linux-6.18 lazy-free-pgtables 2': 301,
  'linux-6.18 asid-reuse 2': 3352,
  'linux-6.18 concurrent-flushes 2': 4379,
  'linux-4.15-pti kernel-range-flush 2': 1002,
  'linux-4.15-pti kernel-range-flush 2 -invpcid': 896,
  'linux-4.15-pti pti-return-to-user 2': 2827,
  'linux-4.15-pti pti-return-to-user 2 -invpcid': 2881,
  'linux-4.15-pti switch-vs-flush 2': 599,
  'linux-4.15-pti lazy-flush 2': 824,
  'linux-4.15-pti lazy-free-pgtables 2': 261,
  'kaiser-percpu-flush lazy-flush 2': 473,
  'kaiser-percpu-flush lazy-free-pgtables 2': 258,
  'kaiser-percpu-flush pti-return-to-user 2': 2384,
  'kaiser-percpu-flush pti-return-to-user 2 +invpcid': 2334,
  'kaiser-percpu-flush switch-vs-flush 2': 743,
  'kaiser-percpu-flush switch-vs-flush 2 +invpcid': 737,
};

/** A row's features, as in the pin keys: `+invpcid`, `-invpcid,-pti`. */
const featureKey = (f: Record<string, boolean | undefined> | undefined): string =>
  f === undefined ? '' : ` ${Object.entries(f).map(([n, on]) => `${on ? '+' : '-'}${n}`).join(',')}`;

describe('expected verdicts of the built-in variants', () => {
  for (const v of VARIANTS) {
    for (const e of v.expect) {
      const key = `${v.id} ${e.scenario} ${e.cpus}${featureKey(e.features)}`;
      it(`${key}: ${e.verdict}${e.invariant ? ` ${e.invariant}` : ''}`, () => {
        const r = checkVariant(v, e.scenario, e.cpus, { ...(e.features ? { features: e.features } : {}), ...(e.bounds ? { bounds: e.bounds } : {}) });
        if (e.verdict === 'holds') {
          expect(r.violation?.message ?? 'none').toBe('none');
          expect(r.verdict).toBe('holds');
          if (PINNED[key] !== undefined) expect(r.states).toBe(PINNED[key]);
        } else {
          expect(r.verdict).toBe('violated');
          expect(r.violation?.invariant).toBe(e.invariant);
        }
      });
    }
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
