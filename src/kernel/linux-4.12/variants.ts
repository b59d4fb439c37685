/**
 * Linux 4.12, the base variant.
 */
import { NO_FEATURES } from '../../machine/types.ts';
import { initCpuNoPcid } from '../common/boot.ts';
import { context_switch, user_access } from '../common/sched.ts';
import { call_function_interrupt } from '../common/smp.ts';
import type { Variant } from '../variant.ts';
import * as t from './tlb.ts';

/**
 * Linux 4.12: `active_mm` + TLBSTATE_LAZY; a flush IPI makes a lazy CPU `leave_mm`
 * (clear its bit, load swapper_pg_dir); switching back to the same mm reloads CR3 if the bit
 * was cleared. Source: arch/x86/mm/tlb.c @ v4.12 (seed 004, docs/seeds.md, "-" side).
 * Expected: holds on every scenario.
 */
export const linux412: Variant<t.R412> = {
  id: 'linux-4.12',
  title: 'Linux 4.12: active_mm, TLBSTATE_LAZY, leave_mm from the flush IPI',
  generation: 'linux-4.12',
  kind: 'base',
  source: 'arch/x86/mm/tlb.c @ v4.12 (torvalds/linux ce27374fabf5); seed 004 (- side)',
  features: NO_FEATURES,
  sharedPcpu: new Set(),
  routines: {
    initCpu: (s, cpu, start) => initCpuNoPcid(s, cpu, start, 'active_mm'),
    context_switch,
    user_access,
    call_function_interrupt,
    switch_mm_irqs_off: t.switch_mm_irqs_off,
    enter_lazy_tlb: t.enter_lazy_tlb,
    leave_mm: t.leave_mm,
    flush_tlb_func: t.flush_tlb_func,
    flush_tlb_local_range: t.flush_tlb_local_range,
    native_flush_tlb_others: t.native_flush_tlb_others,
    flush_tlb_mm_range: t.flush_tlb_mm_range,
  },
  expect: [
    { scenario: 'switch-vs-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'switch-vs-flush', cpus: 3, verdict: 'holds' },
    { scenario: 'switch-vs-flush-local', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-free-pgtables', cpus: 2, verdict: 'holds' },
  ],
};
