/**
 * Linux 4.20 arch/x86/mm/tlb.c: lazy TLB by `cpu_tlbstate.is_lazy`, read remotely by the
 * flusher (`tlb_is_not_lazy`), so lazy CPUs are skipped unless page tables were freed
 * (`freed_tables`), and the `was_lazy` path of `switch_mm_irqs_off` that catches up with
 * `tlb_gen` behind an `smp_mb()`. Seed 003. The rest (choose_new_asid, the flush handler,
 * flush_tlb_mm_range) is 4.14's, which 4.20 keeps (linux-4.14/tlb.ts).
 *
 * Sources: arch/x86/mm/tlb.c (`switch_mm_irqs_off` and the flush handler as in a ~5.8 tlb.c,
 * whose was_lazy path is 4.20's; `native_flush_tlb_others` from Rik van Riel's 4.19/4.20 lazy
 * TLB patches). Not modelled: `cond_ibpb`, `load_mm_cr4`, the LDT, PTI's
 * user-ASID invalidation (PTI is off), tracing.
 */
import type { CpuId, MmId } from '../../machine/types.ts';
import { type K, type Routine, bit, call, load, lockBtr, lockBts, smpMb, store, warnOn } from '../fx.ts';
import { INIT_MM, LOADED_MM_SWITCHING } from '../layout.ts';
import { ctxGenField, ctxIdField } from '../common/asid.ts';
import { smp_call_function_many } from '../common/smp.ts';
import { on_each_cpu_cond_mask } from '../common/smp-cond.ts';
import type { CoreRoutines } from '../variant.ts';
import { type FlushInfo, type R414, describeFlush, loadNewMm } from '../linux-4.14/tlb.ts';

/**
 * `switch_mm_irqs_off(prev, next, tsk)` (arch/x86/mm/tlb.c, v4.20). `opt.wasLazyMb: false`
 * drops the `smp_mb()` of the was_lazy path (bug variant).
 *
 * Ordering:
 * 1. was_lazy path: the store `is_lazy = false` before the read of `next->context.tlb_gen`,
 *    by `smp_mb()` ("synchronizes with the tlb_gen increment in the shootdown code"). Pairs
 *    with flush_tlb_mm_range's LOCK XADD followed by `tlb_is_not_lazy`'s read of our
 *    `is_lazy`: either the flusher sees us not lazy and IPIs us, or we see its generation and
 *    flush. Without it the store waits in our buffer while we read the old tlb_gen.
 * 2. Cross-mm path, as in 4.14: LOCK BTS on `mm_cpumask(next)` before the tlb_gen read,
 *    pairs with flush_tlb_mm_range (1); CR3 after both.
 */
export function switchMmIrqsOff420(opt: { readonly wasLazyMb: boolean }) {
  return function* switch_mm_irqs_off(k: K<R414>, _prev: MmId, next: MmId): Routine {
    yield* call(
      'switch_mm_irqs_off',
      (function* () {
        const L = k.L;
        const cpu = k.cpu;
        const realPrev = yield* load(L.pcpu(cpu, 'loaded_mm'));
        const prevAsid = yield* load(L.pcpu(cpu, 'loaded_mm_asid'));
        const wasLazy = (yield* load(L.pcpu(cpu, 'is_lazy'))) !== 0;
        yield* store(L.pcpu(cpu, 'is_lazy'), 0, 'is_lazy = false (1)');
        if (realPrev === next) {
          const id = yield* load(L.pcpu(cpu, ctxIdField(prevAsid)));
          yield* warnOn(id !== L.mm(next).ctxId, 'VM_WARN_ON(ctxs[prev_asid].ctx_id != next->context.ctx_id)');
          // "Even in lazy TLB mode, the CPU should stay set in the mm_cpumask."
          const m = yield* load(L.cpumask(next));
          if (yield* warnOn(realPrev !== INIT_MM && !bit(m, cpu), 'WARN_ON_ONCE(!cpumask_test_cpu(cpu, mm_cpumask(next)))')) {
            yield* lockBts(L.cpumask(next), cpu);
          }
          if (!wasLazy) return;
          // "Read the tlb_gen to check whether a flush is needed. If the TLB is up to date,
          // just use it. The barrier synchronizes with the tlb_gen increment in the TLB
          // shootdown code."
          if (opt.wasLazyMb) yield* smpMb('smp_mb (1) pairs with flush_tlb_mm_range (1)');
          const gen = yield* load(L.tlbGen(next), 'next_tlb_gen = atomic64_read(&next->context.tlb_gen) (1)');
          if ((yield* load(L.pcpu(cpu, ctxGenField(prevAsid)))) === gen) return;
          // "TLB contents went out of date while we were in lazy mode."
          yield* loadNewMm(k, next, gen, { asid: prevAsid, needFlush: true });
          return;
        }
        // "Skip kernel threads; we never send init_mm TLB flushing IPIs."
        if (realPrev !== INIT_MM) yield* lockBtr(L.cpumask(realPrev), cpu, 'cpumask_clear_cpu(real_prev)');
        if (next !== INIT_MM) yield* lockBts(L.cpumask(next), cpu, 'cpumask_set_cpu(next): start remote flushes (2)');
        const gen = yield* load(L.tlbGen(next), 'next_tlb_gen = atomic64_read(&next->context.tlb_gen) (2)');
        const ns = yield* k.r.choose_new_asid(k, next, gen);
        // "Let nmi_uaccess_okay() know that we're changing CR3." (private to this CPU in 4.20)
        yield* store(L.pcpu(cpu, 'loaded_mm'), LOADED_MM_SWITCHING);
        yield* loadNewMm(k, next, gen, ns);
      })(),
    );
  };
}

/**
 * `enter_lazy_tlb(mm, tsk)` (arch/x86/mm/tlb.c, v4.20): always lazy now; the CPU stays in
 * mm_cpumask and CR3 keeps `mm`.
 */
export function* enter_lazy_tlb(k: K<R414>, _mm: MmId): Routine {
  yield* call(
    'enter_lazy_tlb',
    (function* () {
      if ((yield* load(k.L.pcpu(k.cpu, 'loaded_mm'))) === INIT_MM) return;
      yield* store(k.L.pcpu(k.cpu, 'is_lazy'), 1, 'is_lazy = true');
    })(),
  );
}

/** `tlb_is_not_lazy(cpu, data)` (v4.20): a plain read of another CPU's `is_lazy`, on the sender. */
export function* tlb_is_not_lazy(k: K<CoreRoutines>, cpu: CpuId): Routine<boolean> {
  return (yield* load(k.L.pcpu(cpu, 'is_lazy'), `per_cpu(cpu_tlbstate.is_lazy, cpu${cpu})`)) === 0;
}

/**
 * `native_flush_tlb_others(cpumask, info)` (arch/x86/mm/tlb.c, v4.20). `opt.alwaysSkipLazy`
 * takes the lazy-skipping path even when tables were freed (bug variant).
 *
 * "If no page tables were freed, we can skip sending IPIs to CPUs in lazy TLB mode. They
 * will flush the CPU themselves at the next context switch. However, if page tables are
 * getting freed, we need to send the IPI everywhere, to prevent CPUs in lazy TLB mode from
 * tripping up on the new contents of what used to be page tables." (seed 003, docs/seeds.md)
 */
export function nativeFlushTlbOthers420(opt: { readonly alwaysSkipLazy: boolean }) {
  return function* native_flush_tlb_others(k: K<R414>, f: FlushInfo): Routine {
    const fn = `flush_tlb_func_remote(${describeFlush(k.L, f)})`;
    const func = (kt: K<CoreRoutines>): Routine => (kt as K<R414>).r.flush_tlb_func_remote(kt as K<R414>, f);
    yield* call(
      'native_flush_tlb_others',
      f.freedTables && !opt.alwaysSkipLazy
        ? smp_call_function_many(k, k.L.cpumask(f.mm), fn, func)
        : on_each_cpu_cond_mask(k, tlb_is_not_lazy, k.L.cpumask(f.mm), fn, func),
    );
  };
}
