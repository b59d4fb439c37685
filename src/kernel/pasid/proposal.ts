/**
 * PASID as per-mm CPU state, Andy Lutomirski's proposal (seed 002, docs/seeds.md, LKML 2020-08-03, "Re: [PATCH
 * v6 12/12] x86/traps: Fix up invalid PASID"), written against the 2020 tlb.c, modelled on
 * the 4.13 switch path (linux-4.13 routines).
 *
 * Why 4.13 is a faithful base: the proposal touches two spots, the end of
 * `switch_mm_irqs_off()` and a new update path. In 5.8's arch/x86/mm/tlb.c the part of
 * `switch_mm_irqs_off()` that matters to them is the 4.13 shape: `cpumask_set_cpu(cpu,
 * mm_cpumask(next))` (LOCK BTS) before the CR3 write, `loaded_mm` written by the switching
 * CPU, and the same-mm early return. PCID ASIDs and `tlb_gen`, which 5.8 adds, read and write
 * no PASID and no cpumask bit after the BTS, so they cannot change the verdict.
 *
 * Simplifications: `MSR_IA32_PASID` is XSAVE-managed per-thread state; the model keeps it per
 * CPU and writes it with WRMSR where the proposal writes `tsk->xstate[...]`, which is what the
 * thread runs with once it returns to user (XRSTOR). The "don't dirty the cache line" form
 * (compare before writing) writes the same value, so the first form is modelled.
 */
import type { MmId } from '../../machine/types.ts';
import { type K, type Routine, bit, call, irqDisable, irqEnable, load, pasidUpdateBegin, pasidUpdateEnd, smpMb, store, wrmsrPasid } from '../fx.ts';
import { smp_call_function_many } from '../common/smp.ts';
import type { CoreRoutines } from '../variant.ts';
import type { R413 } from '../linux-4.13/tlb.ts';
import { switch_mm_irqs_off as switch413 } from '../linux-4.13/tlb.ts';

/**
 * `load_mm_pasid(next)` as proposed: `tsk->xstate[PASID] = READ_ONCE(next->context.pasid)`.
 *
 * Ordering:
 * 1. The READ_ONCE comes after `cpumask_set_cpu(cpu, mm_cpumask(next))` in switch_mm: "this
 *    code needs to be at the end of the function where it's protected by mm_cpumask".
 *    Pairs with updateMmPasid (1)(2).
 */
export function* load_mm_pasid(k: K<CoreRoutines>, next: MmId, tag: string): Routine {
  yield* call(
    'load_mm_pasid',
    (function* () {
      const pasid = yield* load(k.L.mmField(next, 'pasid'), tag);
      yield* wrmsrPasid(pasid, 'tsk->xstate[PASID] = pasid');
    })(),
  );
}

/** `switch_mm_irqs_off()` of 4.13 with `load_mm_pasid(next)` added at its end. */
export function* switch_mm_irqs_off(k: K<R413>, prev: MmId, next: MmId): Routine {
  yield* switch413(k, prev, next);
  yield* load_mm_pasid(k, next, 'READ_ONCE(next->context.pasid) (1), after cpumask_set_cpu');
}

/** The IPI function: reload the PASID if this CPU runs `mm`. */
function* load_mm_pasid_ipi(k: K<CoreRoutines>, mm: MmId): Routine {
  if ((yield* load(k.L.pcpu(k.cpu, 'loaded_mm'))) !== mm) return;
  yield* load_mm_pasid(k, mm, 'READ_ONCE(mm->context.pasid) in the IPI');
}

/**
 * The proposed update: store `mm->context.pasid`, then
 * `on_each_cpu_mask(mm_cpumask(mm), load_mm_pasid, mm, true)` (kernel/smp.c `on_each_cpu_mask`
 * of 5.8: `smp_call_function_many()` for the others, then the local call with IRQs off).
 *
 * Ordering:
 * 1. The store to `mm->context.pasid` must be visible before the read of `mm_cpumask(mm)`,
 *    or a CPU that sets its bit (LOCK BTS) after our read and then reads the PASID still sees
 *    the old value from memory. The proposal has NO barrier here: a plain store followed by a
 *    load is the store-buffering (SB) shape, which x86-TSO allows. `mb: true` adds the
 *    minimal fix, `smp_mb()`, pairing with the LOCK BTS of switch_mm_irqs_off.
 * 2. The mask read decides who is IPI'd; a CPU not in it must read the new value itself (1).
 */
export function updateMmPasid(opt: { readonly mb: boolean }) {
  return function* update_mm_pasid(k: K<CoreRoutines>, mm: MmId, val: number): Routine {
    yield* call(
      'update_mm_pasid',
      (function* () {
        const token = yield* pasidUpdateBegin(mm, val);
        yield* store(k.L.mmField(mm, 'pasid'), val, 'mm->context.pasid = pasid');
        if (opt.mb) yield* smpMb('smp_mb: pasid store before the mm_cpumask read (1), pairs with cpumask_set_cpu');
        yield* call(
          'on_each_cpu_mask',
          (function* () {
            yield* smp_call_function_many(k, k.L.cpumask(mm), `load_mm_pasid(${k.L.mmName(mm)})`, (kt) => load_mm_pasid_ipi(kt, mm));
            const m = yield* load(k.L.cpumask(mm), 'cpumask_test_cpu(cpu, mask) (2)');
            if (bit(m, k.cpu)) {
              yield* irqDisable('local_irq_save');
              yield* load_mm_pasid_ipi(k, mm);
              yield* irqEnable('local_irq_restore');
            }
          })(),
        );
        yield* pasidUpdateEnd(token);
      })(),
    );
  };
}
