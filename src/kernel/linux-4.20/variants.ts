/**
 * Linux 4.20 (is_lazy, freed_tables, was_lazy), the base variant, and its bug variants.
 */
import { initCpuPcid } from '../common/boot-pcid.ts';
import { derive, type Variant } from '../variant.ts';
import type { R414 } from '../linux-4.14/tlb.ts';
import { linux414, routines414 } from '../linux-4.14/variants.ts';
import * as t from './tlb.ts';

const routines: R414 = {
  ...routines414,
  // 4.20 skips init_mm's cpumask and clears the previous mm's bit on a switch.
  initCpu: (s, cpu, start) => initCpuPcid(s, cpu, start, { othersKeepBit: false, initMmBit: false }),
  switch_mm_irqs_off: t.switchMmIrqsOff420({ wasLazyMb: true }),
  enter_lazy_tlb: t.enter_lazy_tlb,
  native_flush_tlb_others: t.nativeFlushTlbOthers420({ alwaysSkipLazy: false }),
};

/**
 * Linux 4.20: lazy TLB is `is_lazy` (other CPUs read it); flushes skip lazy CPUs unless page
 * tables were freed; a CPU leaving lazy mode catches up through tlb_gen behind `smp_mb()`.
 * Source: arch/x86/mm/tlb.c @ v4.20 (Rik van Riel's lazy TLB series, 4.19-4.20); seed 003 (docs/seeds.md).
 * Expected: holds on every scenario.
 */
export const linux420: Variant<R414> = {
  id: 'linux-4.20',
  title: 'Linux 4.20: is_lazy, freed_tables, on_each_cpu_cond_mask(tlb_is_not_lazy), was_lazy + smp_mb',
  generation: 'linux-4.20',
  kind: 'base',
  source: 'arch/x86/mm/tlb.c @ v4.20 (native_flush_tlb_others, switch_mm_irqs_off); seed 003',
  features: linux414.features,
  sharedPcpu: new Set(['is_lazy']),
  routines,
  expect: [
    { scenario: 'switch-vs-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'switch-vs-flush-local', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-free-pgtables', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-free-pgtables', cpus: 3, verdict: 'holds' },
    { scenario: 'asid-reuse', cpus: 2, verdict: 'holds' },
    { scenario: 'concurrent-flushes', cpus: 2, verdict: 'holds' },
  ],
};

/**
 * `linux-4.20-lazy-skip-freed`: `native_flush_tlb_others` skips lazy CPUs even when page
 * tables are freed. The lazy CPU's paging-structure cache still points at the freed leaf
 * table, and its walker may walk through it after the page is reused (seed 003, Rik van
 * Riel: "a speculative load poking at a PCI register").
 * Expected: violates no-walk-through-freed-table on lazy-free-pgtables.
 */
export const linux420LazySkipFreed = derive(linux420, {
  id: 'linux-4.20-lazy-skip-freed',
  title: 'native_flush_tlb_others skips lazy CPUs although page tables were freed',
  kind: 'bug',
  source: 'seed 003; native_flush_tlb_others (v4.20) without its freed_tables branch',
  fixedBy: 'linux-4.20',
  routines: { native_flush_tlb_others: t.nativeFlushTlbOthers420({ alwaysSkipLazy: true }) },
  expect: [
    { scenario: 'lazy-free-pgtables', cpus: 2, verdict: 'violated', invariant: 'no-walk-through-freed-table' },
    { scenario: 'lazy-free-pgtables', cpus: 3, verdict: 'violated', invariant: 'no-walk-through-freed-table' },
  ],
});

/**
 * `linux-4.20-was-lazy-no-mb`: the was_lazy path of `switch_mm_irqs_off` reads tlb_gen
 * without the `smp_mb()` after `is_lazy = false`. The store waits in the store buffer, the
 * flusher still reads `is_lazy` = 1 and skips us, and we read the old tlb_gen and keep the
 * stale TLB: the store-buffering litmus test.
 * Expected: violates no-stale-tlb-use on lazy-flush.
 */
export const linux420WasLazyNoMb = derive(linux420, {
  id: 'linux-4.20-was-lazy-no-mb',
  title: 'switch_mm_irqs_off leaves lazy mode without smp_mb() before reading tlb_gen',
  kind: 'bug',
  source: 'switch_mm_irqs_off (v4.20): "The barrier synchronizes with the tlb_gen increment", dropped',
  fixedBy: 'linux-4.20',
  routines: { switch_mm_irqs_off: t.switchMmIrqsOff420({ wasLazyMb: false }) },
  expect: [{ scenario: 'lazy-flush', cpus: 2, verdict: 'violated', invariant: 'no-stale-tlb-use' }],
});
