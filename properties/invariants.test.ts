/**
 * Every invariant is shown to catch a broken kernel: each row names a variant that breaks it
 * and the scenario where the checker must report it. The fixed base variants hold on the same
 * scenarios (variants.test.ts), so none of these checks is vacuous.
 */
import { describe, expect, it } from 'vitest';
import { INVARIANTS } from '../src/invariants/index.ts';
import { findVariant } from '../src/kernel/index.ts';
import { checkVariant, fixture } from './helpers.ts';

const CAUGHT: { invariant: string; variant: string; scenario: string; bounds?: { maxSteps: number } }[] = [
  { invariant: 'no-stale-tlb-use', variant: 'linux-4.13-flush-no-mb', scenario: 'switch-vs-flush' },
  { invariant: 'no-stale-tlb-use', variant: 'fixture:no-ipi', scenario: 'lazy-flush' },
  { invariant: 'no-stale-tlb-use', variant: 'kaiser-no-user-flush', scenario: 'pti-return-to-user' },
  { invariant: 'no-stale-kernel-translation', variant: 'linux-4.15-pti-kernel-flush-one-user', scenario: 'kernel-range-flush' },
  { invariant: 'per-mm-state-coherent', variant: 'pasid-ipi-proposal', scenario: 'pasid-update' },
  { invariant: 'no-cpu-fault', variant: 'kaiser-invpcid', scenario: 'pti-return-to-user' },
  { invariant: 'no-walk-through-freed-table', variant: 'fixture:lazy-ignores-flush', scenario: 'lazy-free-pgtables' },
  { invariant: 'kernel-assertion', variant: 'fixture:lazy-clears-bit', scenario: 'lazy-flush' },
  { invariant: 'no-cpu-fault', variant: 'fixture:invpcid-flush', scenario: 'switch-vs-flush-local' },
  { invariant: 'no-deadlock', variant: 'fixture:handler-spins', scenario: 'switch-vs-flush' },
  { invariant: 'step-limit', variant: 'linux-4.13', scenario: 'switch-vs-flush', bounds: { maxSteps: 6 } },
  { invariant: 'no-use-after-free-page', variant: 'linux-6.18-gather-free-before-flush', scenario: 'munmap-zap' },
  { invariant: 'access-through-own-mm', variant: 'linux-4.12-up-cr3-preemptible', scenario: 'preempt-cr3-up' },
  { invariant: 'no-dead-mm-translation', variant: 'linux-4.14-asid-by-mm-address', scenario: 'mm-reuse' },
];

describe('each invariant catches a kernel that breaks it', () => {
  for (const row of CAUGHT) {
    it(`${row.invariant}: ${row.variant} on ${row.scenario}`, async () => {
      const v = row.variant.startsWith('fixture:') ? await fixture(row.variant.slice(8)) : findVariant(row.variant)!;
      const r = checkVariant(v, row.scenario, 2, row.bounds ? { bounds: row.bounds } : {});
      expect(r.verdict).toBe('violated');
      expect(r.violation?.invariant).toBe(row.invariant);
    });
  }

  it('the table covers every invariant in the catalogue', () => {
    expect(new Set(CAUGHT.map((r) => r.invariant))).toEqual(new Set(INVARIANTS.map((i) => i.id)));
  });
});
