/**
 * Linux 4.13, the base variant, and its bug variants.
 */
import { NO_FEATURES } from '../../machine/types.ts';
import { initCpuNoPcid } from '../common/boot.ts';
import { context_switch, user_access } from '../common/sched.ts';
import { call_function_interrupt } from '../common/smp.ts';
import { derive, type Variant } from '../variant.ts';
import * as t from './tlb.ts';

const routines: t.R413 = {
  initCpu: (s, cpu, start) => initCpuNoPcid(s, cpu, start, 'loaded_mm'),
  context_switch,
  user_access,
  call_function_interrupt,
  switch_mm_irqs_off: t.switch_mm_irqs_off,
  enter_lazy_tlb: t.enter_lazy_tlb,
  leave_mm: t.leave_mm,
  load_cr3: t.load_cr3,
  flush_tlb_func_common: t.flush_tlb_func_common,
  flush_tlb_func_local: t.flush_tlb_func_local,
  flush_tlb_func_remote: t.flush_tlb_func_remote,
  native_flush_tlb_others: t.native_flush_tlb_others,
  flush_tlb_mm_range: t.flush_tlb_mm_range,
};

/**
 * Linux 4.13: `cpu_tlbstate.loaded_mm` tracks the mm CR3 points at; `leave_mm` switches a
 * lazy CPU to init_mm. Source: arch/x86/mm/tlb.c at v4.13 (seed 004, docs/seeds.md, "+" side).
 * Expected: holds on every scenario.
 */
export const linux413: Variant<t.R413> = {
  id: 'linux-4.13',
  title: 'Linux 4.13: loaded_mm, switch_mm ordering comment, leave_mm to init_mm',
  generation: 'linux-4.13',
  kind: 'base',
  source: 'arch/x86/mm/tlb.c @ v4.13; seed 004 (+ side)',
  features: NO_FEATURES,
  sharedPcpu: new Set(),
  routines,
  expect: [
    { scenario: 'switch-vs-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'switch-vs-flush', cpus: 3, verdict: 'holds' },
    { scenario: 'switch-vs-flush-local', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-flush', cpus: 3, verdict: 'holds' },
    { scenario: 'lazy-free-pgtables', cpus: 2, verdict: 'holds' },
  ],
};

/**
 * `linux-4.13-flush-no-mb`: `flush_tlb_mm_range` without its `smp_mb()`. The caller's PTE
 * store can sit in the store buffer while the mask is read; a CPU switching to the mm sets its
 * bit, loads CR3 and walks the old PTE from memory, and no IPI is sent. This is the pattern of
 * CVE-2016-2069 (fixed by commit 71b3c126e611, "x86/mm: Add barriers and document
 * switch_mm()-vs-flush synchronization").
 * Expected: violates no-stale-tlb-use on switch-vs-flush.
 */
export const linux413FlushNoMb = derive(linux413, {
  id: 'linux-4.13-flush-no-mb',
  title: 'flush_tlb_mm_range without smp_mb() (CVE-2016-2069 pattern)',
  kind: 'bug',
  source: 'seed 004 ordering comment; CVE-2016-2069, commit 71b3c126e611',
  fixedBy: 'linux-4.13',
  routines: { flush_tlb_mm_range: t.flushTlbMmRange413({ smpMb: false }) },
  expect: [
    { scenario: 'switch-vs-flush', cpus: 2, verdict: 'violated', invariant: 'no-stale-tlb-use' },
    { scenario: 'switch-vs-flush', cpus: 3, verdict: 'violated', invariant: 'no-stale-tlb-use' },
  ],
});

/**
 * `linux-4.13-cr3-before-cpumask`: `switch_mm_irqs_off` loads CR3 before it sets its bit in
 * `mm_cpumask(next)`. Between the two, the walker may fill the old PTE while a flusher reads
 * the mask without our bit and sends no IPI: the ordering constraint of seed 004, broken from
 * the switch side. Expected: violates no-stale-tlb-use on switch-vs-flush.
 */
export const linux413Cr3BeforeCpumask = derive(linux413, {
  id: 'linux-4.13-cr3-before-cpumask',
  title: 'switch_mm_irqs_off loads CR3 before setting its mm_cpumask bit',
  kind: 'bug',
  source: 'seed 004: the switch_mm ordering comment ("load_cr3() is serializing")',
  fixedBy: 'linux-4.13',
  routines: { switch_mm_irqs_off: t.switchMmIrqsOff413({ cr3BeforeCpumask: true }) },
  expect: [
    { scenario: 'switch-vs-flush', cpus: 2, verdict: 'violated', invariant: 'no-stale-tlb-use' },
    { scenario: 'switch-vs-flush', cpus: 3, verdict: 'violated', invariant: 'no-stale-tlb-use' },
  ],
});
