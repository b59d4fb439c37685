/**
 * Kernel mappings (issue #16): each modelled historical bug is caught at 2 CPUs and its fix
 * holds on the same machine, and the boot's setup_pcid() decides which features the kernel
 * sees. Verdicts and pinned counts of every expectation row are in variants.test.ts; these
 * are the pairs that make each of those rows mean something.
 *
 * - the INVLPG erratum (ce0b15d11ad8): on `invlpg-miss` + PCID + PGE, a kernel without the
 *   invlpg_miss_ids check keeps a stale global kernel translation; 6.18 turns PCID off;
 * - PCID without PGE (660da7c9228f): __flush_tlb_all() would reload CR3 only for the current
 *   PCID; 4.14 turns PCID off;
 * - a kernel PTE page freed without a flush (28ee90fe6048, fixed by 5e0fb5df2ee6);
 * - flush_tlb_range() without freed_tables on a pmd collapse (3ef938c35035, CVE-2025-22045).
 */
import { describe, expect, it } from 'vitest';
import { findVariant } from '../src/kernel/index.ts';
import { setupPcid } from '../src/kernel/common/setup-pcid.ts';
import { featuresOf } from '../src/machine/types.ts';
import { checkVariant } from './helpers.ts';

const PAIRS = [
  {
    bug: 'linux-6.18-no-invlpg-miss-check',
    fix: 'linux-6.18',
    scenario: 'kernel-range-flush-global',
    features: { 'invlpg-miss': true },
    invariant: 'no-stale-kernel-translation',
  },
  { bug: 'linux-4.14-pcid-without-pge', fix: 'linux-4.14', scenario: 'kernel-range-flush-all', features: { pge: false }, invariant: 'no-stale-kernel-translation' },
  { bug: 'linux-4.20-free-pte-page-no-flush', fix: 'linux-4.20', scenario: 'kernel-pgtable-free', features: {}, invariant: 'no-walk-through-freed-table' },
  { bug: 'linux-6.18-flush-range-not-freed', fix: 'linux-6.18', scenario: 'collapse-flush', features: {}, invariant: 'no-walk-through-freed-table' },
] as const;

describe('kernel-mapping bugs are caught and their fixes hold (2 CPUs)', () => {
  for (const p of PAIRS) {
    it(`${p.bug} violates ${p.invariant} on ${p.scenario}; ${p.fix} holds there`, () => {
      const bug = checkVariant(findVariant(p.bug)!, p.scenario, 2, { features: p.features });
      expect(bug.verdict).toBe('violated');
      expect(bug.violation?.invariant).toBe(p.invariant);
      const fix = checkVariant(findVariant(p.fix)!, p.scenario, 2, { features: p.features });
      expect(fix.verdict).toBe('holds');
    });
  }

  it('the erratum is the machine\'s: without it, the kernel lacking the workaround holds', () => {
    const r = checkVariant(findVariant('linux-6.18-no-invlpg-miss-check')!, 'kernel-range-flush-global', 2);
    expect(r.verdict).toBe('holds');
  });
});

describe('setup_pcid() (arch/x86/mm/init.c) at boot', () => {
  const m = (names: string[]) => featuresOf(Object.fromEntries(names.map((n) => [n, true])));
  it('clears PCID on an invlpg-miss CPU only with the invlpg-miss check', () => {
    expect(setupPcid(m(['pcid', 'pge', 'invlpg-miss']), ['pge', 'invlpg-miss']).pcid).toBe(false);
    expect(setupPcid(m(['pcid', 'pge', 'invlpg-miss']), ['pge']).pcid).toBe(true);
    expect(setupPcid(m(['pcid', 'pge']), ['pge', 'invlpg-miss']).pcid).toBe(true);
  });
  it('clears PCID without PGE only with the PGE check', () => {
    expect(setupPcid(m(['pcid']), ['pge']).pcid).toBe(false);
    expect(setupPcid(m(['pcid']), []).pcid).toBe(true);
  });
  it('the 4.14, 4.20 and 6.18 generations make the checks their kernels make', () => {
    const caps = (id: string) => findVariant(id)!.cpuCaps;
    expect(caps('linux-4.14')?.(m(['pcid'])).pcid).toBe(false);
    expect(caps('linux-4.14')?.(m(['pcid', 'pge', 'invlpg-miss'])).pcid).toBe(true);
    expect(caps('linux-6.18')?.(m(['pcid', 'pge', 'invlpg-miss'])).pcid).toBe(false);
    expect(caps('linux-6.18-no-invlpg-miss-check')?.(m(['pcid', 'pge', 'invlpg-miss'])).pcid).toBe(true);
    expect(caps('linux-4.14-pcid-without-pge')?.(m(['pcid'])).pcid).toBe(true);
  });
});
