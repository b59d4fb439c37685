/**
 * Modern Linux (v6.18), the base variant, and its bug variants.
 */
import { chooseNewAsid } from '../common/asid.ts';
import { initCpuPcid } from '../common/boot-pcid.ts';
import { context_switch, user_access } from '../common/sched.ts';
import { call_function_interrupt } from '../common/smp.ts';
import { linux414 } from '../linux-4.14/variants.ts';
import { derive, type Variant } from '../variant.ts';
import * as t from './tlb.ts';

const routines: t.R6 = {
  // Lazy mm_cpumask: bits of mms switched away from stay set; init_mm is never tracked.
  initCpu: (s, cpu, start) => initCpuPcid(s, cpu, start, { othersKeepBit: true, initMmBit: false }),
  context_switch,
  user_access,
  call_function_interrupt,
  switch_mm_irqs_off: t.switchMmIrqsOff6({ switchingMb: true }),
  enter_lazy_tlb: t.enter_lazy_tlb,
  choose_new_asid: chooseNewAsid(),
  flush_tlb_func: t.flush_tlb_func,
  should_flush_tlb: t.should_flush_tlb,
  native_flush_tlb_multi: t.native_flush_tlb_multi,
  flush_tlb_mm_range: t.flush_tlb_mm_range,
};

/**
 * Linux v6.18: lazy mm_cpumask trimmed by the flush handler, should_flush_tlb(),
 * LOADED_MM_SWITCHING, the tlb_gen early exits, and switch_mm_irqs_off's explicit smp_mb()
 * when its cpumask bit is already set (83b0177a6c48).
 * Source: arch/x86/mm/tlb.c @ v6.18; SPIN anchor kernel_modern.pml.
 * Expected: holds on every scenario.
 */
export const linux618: Variant<t.R6> = {
  id: 'linux-6.18',
  title: 'Linux 6.18: lazy mm_cpumask, should_flush_tlb, LOADED_MM_SWITCHING, tlb_gen early exits',
  generation: 'linux-6.x',
  kind: 'base',
  source: 'arch/x86/mm/tlb.c @ v6.18 (with 83b0177a6c48, "x86/mm: Fix SMP ordering in switch_mm_irqs_off()")',
  features: linux414.features,
  sharedPcpu: new Set(['loaded_mm', 'is_lazy']),
  routines,
  expect: [
    { scenario: 'switch-vs-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'switch-vs-flush-local', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-free-pgtables', cpus: 2, verdict: 'holds' },
    { scenario: 'asid-reuse', cpus: 2, verdict: 'holds' },
    { scenario: 'concurrent-flushes', cpus: 2, verdict: 'holds' },
  ],
};

/**
 * `linux-6.17-switch-no-mb`: `switch_mm_irqs_off` as before 83b0177a6c48 (6.2-era lazy
 * cpumask through 6.17): when its bit in `mm_cpumask(next)` is already set, nothing orders
 * the `loaded_mm = LOADED_MM_SWITCHING` store before the `tlb_gen` read. The flusher reads
 * the old `loaded_mm` and skips us, we read the old tlb_gen and load CR3 with NOFLUSH over
 * the stale ASID: store buffering. Reported by Stephen Dolan; fixed Oct 2025.
 * Expected: violates no-stale-tlb-use on switch-vs-flush.
 */
export const linux617SwitchNoMb = derive(linux618, {
  id: 'linux-6.17-switch-no-mb',
  title: 'switch_mm_irqs_off without smp_mb() when the mm_cpumask bit is already set (before 83b0177a6c48)',
  kind: 'bug',
  source: 'arch/x86/mm/tlb.c @ v6.17; fixed by 83b0177a6c48 (x86/mm: Fix SMP ordering in switch_mm_irqs_off())',
  fixedBy: 'linux-6.18',
  routines: { switch_mm_irqs_off: t.switchMmIrqsOff6({ switchingMb: false }) },
  expect: [{ scenario: 'switch-vs-flush', cpus: 2, verdict: 'violated', invariant: 'no-stale-tlb-use' }],
});

/**
 * `linux-6.18-lazy-skip-freed`: `native_flush_tlb_multi` asks `should_flush_tlb` even when
 * page tables were freed, so a lazy CPU is skipped and keeps walking through its cached
 * upper entry into the freed table (seed 003 of docs/seeds.md on modern code; the SPIN anchor's s3 `-DBUGGY`).
 * Expected: violates no-walk-through-freed-table on lazy-free-pgtables.
 */
export const linux618LazySkipFreed = derive(linux618, {
  id: 'linux-6.18-lazy-skip-freed',
  title: 'native_flush_tlb_multi skips lazy CPUs although page tables were freed',
  kind: 'bug',
  source: 'seed 003; native_flush_tlb_multi (v6.18) without its freed_tables branch; SPIN s3 -DBUGGY',
  fixedBy: 'linux-6.18',
  routines: { native_flush_tlb_multi: t.nativeFlushTlbMulti6({ alwaysCond: true }) },
  expect: [
    { scenario: 'lazy-free-pgtables', cpus: 2, verdict: 'violated', invariant: 'no-walk-through-freed-table' },
    { scenario: 'lazy-free-pgtables', cpus: 3, verdict: 'violated', invariant: 'no-walk-through-freed-table' },
  ],
});

/**
 * `linux-6.18-trim-cpumask`: 6.18 at the moment `should_trim_cpumask(mm)` says yes (once a
 * second per mm, by jiffies): `should_flush_tlb` then also IPIs CPUs whose bit is stale, and
 * their `flush_tlb_func` clears it. Not a bug: the other half of the lazy mm_cpumask
 * trimming, which the base variant (trim false) reaches only through LOADED_MM_SWITCHING.
 * Expected: holds.
 */
export const linux618Trim = derive(linux618, {
  id: 'linux-6.18-trim-cpumask',
  title: 'Linux 6.18 with should_trim_cpumask() true: stale mm_cpumask bits are IPIed and cleared',
  kind: 'user',
  source: 'arch/x86/mm/tlb.c @ v6.18: should_trim_cpumask, should_flush_tlb (trim_cpumask), flush_tlb_func',
  routines: { flush_tlb_mm_range: t.flushTlbMmRange6({ trim: true }) },
  expect: [
    { scenario: 'switch-vs-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'asid-reuse', cpus: 2, verdict: 'holds' },
  ],
});
