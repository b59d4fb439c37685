/**
 * Linux 4.15 with PTI, the base variant, and its bug variants.
 */
import { context_switch } from '../common/sched.ts';
import { call_function_interrupt } from '../common/smp.ts';
import { derive, type Variant } from '../variant.ts';
import { initCpuPti } from './boot.ts';
import { user_access } from './entry.ts';
import * as t from './tlb.ts';
import { __flush_tlb_one_user } from './tlbflush.ts';
import { call, invlpg, type K, type Routine } from '../fx.ts';
import { PAGE_SIZE } from '../../machine/types.ts';

const routines: t.R415 = {
  initCpu: initCpuPti,
  context_switch,
  user_access,
  call_function_interrupt,
  switch_mm_irqs_off: t.switch_mm_irqs_off,
  enter_lazy_tlb: t.enter_lazy_tlb,
  flush_tlb_func_common: t.flush_tlb_func_common,
  flush_tlb_func_remote: t.flush_tlb_func_remote,
  native_flush_tlb_others: t.native_flush_tlb_others,
  flush_tlb_mm_range: t.flush_tlb_mm_range,
  flush_tlb_one_user: __flush_tlb_one_user,
  do_kernel_range_flush: t.do_kernel_range_flush,
  flush_tlb_kernel_range: t.flush_tlb_kernel_range,
};

/** 2-CPU rows; the 3-CPU runs hold too but take tens of seconds (README, variant notes). */
const rows = (scenario: string, extra: Partial<{ invpcid: boolean }> = {}) =>
  [2].map((cpus) => ({ scenario, cpus, verdict: 'holds' as const, ...(Object.keys(extra).length ? { features: extra } : {}) }));

/**
 * Linux 4.15 with PTI on a PCID machine: per-mm ASIDs with a kernel and a user PCID each
 * (user = kernel | 2048), user-PCID flushes deferred to the exit through
 * `user_pcid_flush_mask`, kernel mappings non-global, `__flush_tlb_one_kernel` marking the
 * other ASIDs with `invalidate_other`. Source: arch/x86/mm/tlb.c, asm/tlbflush.h and
 * entry/calling.h @ v4.15; seed 001 (docs/seeds.md). Expected: holds, with and without INVPCID.
 */
export const linux415Pti: Variant<t.R415> = {
  id: 'linux-4.15-pti',
  title: 'Linux 4.15 PTI: kernel/user PCID pairs, user_pcid_flush_mask, invalidate_other',
  generation: 'linux-4.15-pti',
  kind: 'base',
  source: 'arch/x86/mm/tlb.c, arch/x86/include/asm/tlbflush.h, arch/x86/entry/calling.h @ v4.15; seed 001',
  features: { pcid: true, invpcid: true, pge: true, pti: true },
  sharedPcpu: new Set(),
  routines,
  expect: [
    ...rows('kernel-range-flush'),
    ...rows('kernel-range-flush', { invpcid: false }),
    ...rows('pti-return-to-user'),
    ...rows('pti-return-to-user', { invpcid: false }),
    { scenario: 'switch-vs-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-free-pgtables', cpus: 2, verdict: 'holds' },
  ],
};

/**
 * `linux-4.15-pti-kernel-flush-one-user`: kernel addresses flushed with the single-PCID
 * flush (`__flush_tlb_one_user`, i.e. the unsplit `__flush_tlb_one` of the middle of the PTI
 * series once kernel pages lost _PAGE_GLOBAL). INVLPG reaches only the current PCID; another
 * cached ASID keeps the old kernel translation and is switched to with NOFLUSH. Seed 001:
 * "we have a potential corruption issue affecting anyone who tries to bisect the series".
 * Expected: violates no-stale-kernel-translation on kernel-range-flush.
 */
export const linux415PtiKernelFlushOneUser = derive(linux415Pti, {
  id: 'linux-4.15-pti-kernel-flush-one-user',
  title: 'PTI: kernel-range flush with the single-PCID __flush_tlb_one (no invalidate_other)',
  kind: 'bug',
  source: 'seed 001 (Andy Lutomirski / Dave Hansen, 2017-11-28: split __flush_tlb_one)',
  fixedBy: 'linux-4.15-pti',
  routines: {
    do_kernel_range_flush: function* (k: K<t.R415>, start: number, end: number): Routine {
      yield* call(
        'do_kernel_range_flush',
        (function* () {
          for (let a = start; a < end; a += PAGE_SIZE) yield* __flush_tlb_one_user(k, a);
        })(),
      );
    },
  },
  expect: [
    { scenario: 'kernel-range-flush', cpus: 2, verdict: 'violated', invariant: 'no-stale-kernel-translation' },
    { scenario: 'kernel-range-flush', cpus: 3, verdict: 'violated', invariant: 'no-stale-kernel-translation' },
  ],
});

/**
 * `linux-4.15-pti-no-user-pcid-flush`: `__flush_tlb_one_user` as before PTI (INVLPG only), so a
 * remote single-page flush reaches the kernel PCID but neither flushes nor marks the user PCID.
 * That is the job of "x86/mm: Allow flushing for future ASID switches" (seed 001: "a given
 * address space on a given CPU as needing a usermode PCID flush when its usermode tables are
 * next loaded"). Expected: violates no-stale-tlb-use on pti-return-to-user.
 */
export const linux415PtiNoUserPcidFlush = derive(linux415Pti, {
  id: 'linux-4.15-pti-no-user-pcid-flush',
  title: 'PTI: single-page flush with INVLPG only, the user PCID keeps the old PTE',
  kind: 'bug',
  source: 'seed 001 ([PATCH 15/24] x86/mm: Allow flushing for future ASID switches)',
  fixedBy: 'linux-4.15-pti',
  routines: {
    flush_tlb_one_user: function* (_k: K<t.R415>, addr: number): Routine {
      yield* call('__flush_tlb_one_user', invlpg(addr, 'INVLPG: current (kernel) PCID only'));
    },
  },
  expect: [{ scenario: 'pti-return-to-user', cpus: 2, verdict: 'violated', invariant: 'no-stale-tlb-use' }],
});
