/**
 * PASID as merged in 5.18 ("x86/traps: Demand-populate PASID MSR via #GP", Fenghua Yu and
 * Peter Zijlstra): no IPIs and nothing in switch_mm. A thread starts with an invalid
 * `MSR_IA32_PASID`; its first ENQCMD raises #GP, and `try_fixup_enqcmd_gp()`
 * (arch/x86/kernel/traps.c, 5.18-6.x) writes `current->mm->pasid | MSR_IA32_PASID_VALID` to
 * the MSR and retries the instruction. Modelled on the linux-4.13 switch path, which it leaves
 * alone.
 *
 * Simplifications: the MSR value 0 stands for "not valid" and a valid PASID is stored without
 * the VALID bit; `current->pasid_activated` is "the MSR is valid" (per CPU, as in proposal.ts).
 * A thread switch would XRSTOR the next thread's MSR; the scenario's switching CPUs only move
 * from a thread without PASID to a fresh thread of the updated mm, both with an invalid MSR,
 * so that restore changes nothing and is not modelled.
 */
import type { AccessResult } from '../../machine/effects.ts';
import type { MmId } from '../../machine/types.ts';
import { type K, type Routine, access, call, irqDisable, irqEnable, load, pasidUpdateBegin, pasidUpdateEnd, readPasidMsr, smpMb, store, wrmsrPasid } from '../fx.ts';
import { NO_MM } from '../layout.ts';
import type { CoreRoutines } from '../variant.ts';

/**
 * `mm_pasid_set()` at bind time (`iommu_sva_bind_device` -> `iommu_sva_alloc_pasid`, under the
 * SVA mutex): a plain store of `mm->pasid`.
 *
 * Ordering:
 * 1. The syscall then returns to user mode. Other threads of the mm learn of the bind only
 *    through a later store of this thread, which x86-TSO makes visible after this one; the
 *    model states that with a full barrier before the return (a formulation, not kernel code),
 *    so the invariant is judged only for ENQCMDs that could know of the bind.
 *    Pairs with try_fixup_enqcmd_gp (1).
 */
export function* update_mm_pasid(k: K<CoreRoutines>, mm: MmId, val: number): Routine {
  yield* call(
    'mm_pasid_set',
    (function* () {
      const token = yield* pasidUpdateBegin(mm, val);
      yield* store(k.L.mmField(mm, 'pasid'), val, 'mm->pasid = pasid');
      yield* smpMb('return to user: the bind is known to others only after this store (1)');
      yield* pasidUpdateEnd(token);
    })(),
  );
}

/**
 * `try_fixup_enqcmd_gp()` (arch/x86/kernel/traps.c, 5.18), run from `exc_general_protection`
 * for a user-mode #GP before IRQs are enabled.
 *
 * Ordering:
 * 1. Reads `current->mm->pasid` when the ENQCMD faults, i.e. after the bind is visible to
 *    this thread; pairs with mm_pasid_set (1).
 */
export function* try_fixup_enqcmd_gp(k: K<CoreRoutines>): Routine<boolean> {
  return yield* call(
    'try_fixup_enqcmd_gp',
    (function* () {
      if ((yield* readPasidMsr()) !== 0) return false; // current->pasid_activated: another #GP
      const mm = yield* load(k.L.pcpu(k.cpu, 'cur_mm'));
      if (mm === NO_MM) return false;
      const pasid = yield* load(k.L.mmField(mm, 'pasid'), 'current->mm->pasid (1)');
      if (pasid === 0) return false; // !pasid_valid(): a real #GP
      yield* wrmsrPasid(pasid, 'wrmsrl(MSR_IA32_PASID, pasid | MSR_IA32_PASID_VALID)');
      return true;
    })(),
  );
}

const SIGSEGV: AccessResult = { ok: false, fault: 'not-present' };

/** Return to user and run ENQCMD on `va`: the first one #GPs and is fixed up, then retried. */
export function* user_access(k: K<CoreRoutines>, va: number, write: boolean): Routine<AccessResult> {
  return yield* call(
    'user access (ENQCMD)',
    (function* () {
      if ((yield* readPasidMsr()) === 0) {
        yield* irqDisable('#GP entry: IRQs off');
        const fixed = yield* try_fixup_enqcmd_gp(k);
        yield* irqEnable(fixed ? 'IRET, ENQCMD retried' : 'SIGSEGV');
        // No PASID yet: the #GP is real, the thread gets SIGSEGV and the ENQCMD never runs.
        if (!fixed) return SIGSEGV;
      }
      return yield* access(va, write, 'ENQCMD');
    })(),
  );
}
