/**
 * KAISER (4.4/4.9 stable, seed 000, docs/seeds.md): the patched form as the base, the form before the seed
 * patch, and a broken one that never flushes the shared user PCID.
 */
import { call_function_interrupt } from '../common/smp.ts';
import { context_switch } from '../common/sched.ts';
import * as t412 from '../linux-4.12/tlb.ts';
import { enter_lazy_tlb, native_flush_tlb_others } from '../linux-4.12/tlb.ts';
import { derive, type Variant } from '../variant.ts';
import type { K, Routine } from '../fx.ts';
import type { R412 } from '../linux-4.12/tlb.ts';
import { initCpuKaiser, switch_user_cr3_const, switch_user_cr3_percpu, userAccess } from './entry.ts';
import * as t from './tlb.ts';

/** Westmere..Ivybridge: PCID without INVPCID (seed 000). 2-CPU rows: the 3-CPU runs are slow. */
const WESTMERE = { pcid: true, invpcid: false, pge: false, pti: true } as const;
const both = (scenario: string) =>
  [2].flatMap((cpus) => [
    { scenario, cpus, verdict: 'holds' as const },
    { scenario, cpus, verdict: 'holds' as const, features: { invpcid: true } },
  ]);

/**
 * `kaiser-percpu-flush`: after "kaiser: load_new_mm_cr3() let SWITCH_USER_CR3 flush user"
 * (Hugh Dickins, 2017-08-17): `load_new_mm_cr3()` and the flush primitives note the user
 * flush in the per-cpu `x86_cr3_pcid_user`; SWITCH_USER_CR3 flushes PCID 128 on the next exit.
 * No INVPCID needed. Expected: holds on pti-return-to-user and switch-vs-flush, with and
 * without INVPCID, and on the lazy scenarios (which build no user pgd: the user tables are
 * then the kernel ones, under the user PCID).
 */
export const kaiserPercpuFlush: Variant<t.RKaiser> = {
  id: 'kaiser-percpu-flush',
  title: 'KAISER 4.4/4.9 stable: per-cpu user CR3 variable, user PCID flushed on return to user',
  generation: 'kaiser',
  kind: 'base',
  source: 'arch/x86/mm/tlb.c load_new_mm_cr3, arch/x86/mm/kaiser.c, asm/kaiser.h (4.4.110/4.9.75 stable); seed 000',
  features: WESTMERE,
  sharedPcpu: new Set(),
  routines: {
    initCpu: initCpuKaiser,
    context_switch,
    user_access: userAccess(switch_user_cr3_percpu),
    call_function_interrupt,
    switch_mm_irqs_off: t.switch_mm_irqs_off,
    enter_lazy_tlb: (k, mm) => enter_lazy_tlb(k as K<R412>, mm),
    leave_mm: t.leave_mm,
    flush_tlb_func: t412.flush_tlb_func,
    flush_tlb_local_range: t.flush_tlb_local_range,
    native_flush_tlb_others: (k, f) => native_flush_tlb_others(k, f),
    flush_tlb_mm_range: t412.flush_tlb_mm_range,
    load_new_mm_cr3: t.load_new_mm_cr3,
    flush_user_pcid: t.kaiser_flush_tlb_on_return_to_user,
  },
  expect: [
    ...both('pti-return-to-user'),
    ...both('switch-vs-flush'),
    { scenario: 'lazy-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-free-pgtables', cpus: 2, verdict: 'holds' },
  ],
};

/**
 * `kaiser-invpcid`: before the seed patch ("kaiser: enhanced by kernel and user PCIDs"):
 * `load_new_mm_cr3()` and the flush primitives flush the user PCID at once with
 * `invpcid_flush_single_context(X86_CR3_PCID_ASID_USER)`; SWITCH_USER_CR3 always uses NOFLUSH.
 * On a CPU with PCID but no INVPCID the INVPCID raises #UD: "on these load_new_mm_cr3() simply
 * crashed" (seed 000). Expected: no-cpu-fault without INVPCID; holds with it.
 */
export const kaiserInvpcid = derive(kaiserPercpuFlush, {
  id: 'kaiser-invpcid',
  title: 'KAISER before the seed patch: user PCID flushed by INVPCID in load_new_mm_cr3',
  kind: 'bug',
  source: 'seed 000 (what "kaiser: load_new_mm_cr3() let SWITCH_USER_CR3 flush user" replaced)',
  fixedBy: 'kaiser-percpu-flush',
  routines: { user_access: userAccess(switch_user_cr3_const), flush_user_pcid: t.invpcid_flush_user },
  expect: [
    { scenario: 'pti-return-to-user', cpus: 2, verdict: 'violated', invariant: 'no-cpu-fault' },
    { scenario: 'pti-return-to-user', cpus: 3, verdict: 'violated', invariant: 'no-cpu-fault' },
    { scenario: 'pti-return-to-user', cpus: 2, features: { invpcid: true }, verdict: 'holds' },
  ],
});

/**
 * `kaiser-no-user-flush`: KAISER with the user-PCID flush left out altogether (the trap the
 * seed's comment describes: the same PCID "is used for different tasks"). After a switch the
 * shared user PCID still serves the previous mm's translation. Expected: violates
 * no-stale-tlb-use on pti-return-to-user (an entry filled from another mm's tables).
 */
export const kaiserNoUserFlush = derive(kaiserPercpuFlush, {
  id: 'kaiser-no-user-flush',
  title: 'KAISER without any user-PCID flush on mm switch',
  kind: 'bug',
  source: 'seed 000: the shared user PCID must be flushed on every task change',
  fixedBy: 'kaiser-percpu-flush',
  routines: {
    flush_user_pcid: function* (): Routine {
      // nothing: the user PCID is never flushed
    },
  },
  expect: [{ scenario: 'pti-return-to-user', cpus: 2, verdict: 'violated', invariant: 'no-stale-tlb-use' }],
});
