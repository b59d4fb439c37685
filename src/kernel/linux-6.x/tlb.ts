/**
 * Linux v6.18 arch/x86/mm/tlb.c (the release, with "x86/mm: Fix SMP ordering in
 * switch_mm_irqs_off()", upstream 83b0177a6c48, Oct 2025): the lazy mm_cpumask (a CPU's bit
 * stays set in the mm it switched away from, and the flush handler clears stale bits),
 * `should_flush_tlb()` deciding on the sender from the target's `loaded_mm` and `is_lazy`,
 * `LOADED_MM_SWITCHING`, and the handler's two tlb_gen early exits.
 *
 * Sources: arch/x86/mm/tlb.c of v6.18 (`switch_mm_irqs_off`, `should_flush_tlb`,
 * `flush_tlb_func`, `native_flush_tlb_multi`, `flush_tlb_mm_range`), read from a distribution
 * tlb.c just after 6.18 and checked line by line against the v6.18 stable tree; the pre-fix
 * form is the parent of 83b0177a6c48 (as reviewed for 6.17-stable). The SPIN reference model
 * run by `npm run bench -- --vs-spin` (bench/spin.ts) models the same steps.
 *
 * Not modelled, each absent from the scenarios' machine: INVLPGB global ASIDs and ASID
 * transitions (no INVLPGB: `mm_global_asid()` is 0), PTI user ASIDs and `invalidate_other`,
 * LAM, `cond_mitigation` (IBPB), `cr4_update_pce_mm`, the LDT, the DEBUG_VM cpumask and CR3
 * checks, tracing and statistics. `should_trim_cpumask()` (jiffies, at most once a second per
 * mm) is false: stale bits are then cleared only by a handler that an IPI reaches anyway.
 */
import type { CpuId, MmId } from '../../machine/types.ts';
import { PAGE_SIZE } from '../../machine/types.ts';
import {
  type K,
  type Routine,
  call,
  cpumaskAnyBut,
  cpumaskTestCpu,
  flushBegin,
  flushEnd,
  invlpg,
  irqDisable,
  irqEnable,
  irqsDisabled,
  load,
  lockBtr,
  lockBts,
  smpMb,
  store,
  warnOn,
} from '../fx.ts';
import { INIT_MM, LOADED_MM_SWITCHING } from '../layout.ts';
import { type NewAsid, ctxGenField, inc_mm_tlb_gen } from '../common/asid.ts';
import type { MmRoutines } from '../common/sched.ts';
import { smp_call_function_many_cond } from '../common/smp-cond.ts';
import type { CoreRoutines } from '../variant.ts';
import { FLUSH_CEILING, type FlushInfo, type R414, TLB_FLUSH_ALL, describeFlush, loadNewMm, local_flush_tlb } from '../linux-4.14/tlb.ts';

/** `struct flush_tlb_info` (6.18): 4.14's plus `initiating_cpu` and `trim_cpumask`. */
export interface FlushInfo6 extends FlushInfo {
  readonly initiatingCpu: CpuId;
  readonly trimCpumask: boolean;
}

export interface R6 extends MmRoutines {
  choose_new_asid(k: K<R6>, next: MmId, nextTlbGen: number): Routine<NewAsid>;
  flush_tlb_func(k: K<R6>, f: FlushInfo6): Routine;
  should_flush_tlb(k: K<R6>, cpu: CpuId, f: FlushInfo6): Routine<boolean>;
  native_flush_tlb_multi(k: K<R6>, f: FlushInfo6): Routine;
}

/**
 * `switch_mm_irqs_off(unused, next, tsk)` (arch/x86/mm/tlb.c, v6.18). `opt.switchingMb:
 * false` is the form before 83b0177a6c48: no barrier when our bit is already set.
 *
 * Ordering:
 * 1. Cross-mm path: the store `loaded_mm = LOADED_MM_SWITCHING` before the read of
 *    `next->context.tlb_gen`, by the LOCK BTS of `cpumask_set_cpu` or, when the bit is
 *    already set (the lazy mm_cpumask leaves it set), an explicit `smp_mb()`. Pairs with
 *    flush_tlb_mm_range (1) + should_flush_tlb: "either switch_mm sees the new tlb_gen or
 *    the flusher sees the new loaded_mm, or both".
 * 2. was_lazy path: `is_lazy = false`, `smp_mb()`, read tlb_gen; the same pairing against
 *    should_flush_tlb's read of `is_lazy` (as in 4.20).
 * 3. CR3 (serializing) after the tlb_gen read; `loaded_mm = next` after CR3 ("barrier()").
 */
export function switchMmIrqsOff6(opt: { readonly switchingMb: boolean }) {
  return function* switch_mm_irqs_off(k: K<R6>, _unused: MmId, next: MmId): Routine {
    yield* call(
      'switch_mm_irqs_off',
      (function* () {
        const L = k.L;
        const cpu = k.cpu;
        const prev = yield* load(L.pcpu(cpu, 'loaded_mm'));
        const prevAsid = yield* load(L.pcpu(cpu, 'loaded_mm_asid'));
        const wasLazy = (yield* load(L.pcpu(cpu, 'is_lazy'))) !== 0;
        if (wasLazy) yield* store(L.pcpu(cpu, 'is_lazy'), 0, 'is_lazy = false (2)');
        let gen: number;
        let ns: NewAsid;
        if (prev === next) {
          if (!wasLazy) return;
          // "Read the tlb_gen to check whether a flush is needed. ... The barrier synchronizes
          // with the tlb_gen increment in the TLB shootdown code."
          yield* smpMb('smp_mb (2) pairs with flush_tlb_mm_range (1)');
          gen = yield* load(L.tlbGen(next), 'next_tlb_gen = atomic64_read(&next->context.tlb_gen) (2)');
          if ((yield* load(L.pcpu(cpu, ctxGenField(prevAsid)))) === gen) return;
          // "TLB contents went out of date while we were in lazy mode. Fall through."
          ns = { asid: prevAsid, needFlush: true };
        } else {
          // "Indicate that CR3 is about to change. nmi_uaccess_okay() and others are sensitive
          // to the window where mm_cpumask(), CR3 and cpu_tlbstate.loaded_mm are not all in sync."
          yield* store(L.pcpu(cpu, 'loaded_mm'), LOADED_MM_SWITCHING, 'loaded_mm = LOADED_MM_SWITCHING (1)');
          // "Make sure this CPU is set in mm_cpumask() such that we'll receive invalidation IPIs.
          // Rely on the smp_mb() implied by cpumask_set_cpu()'s atomic operation, or explicitly
          // provide one."
          const clear = next !== INIT_MM && !(yield* cpumaskTestCpu(L.cpumask(next), cpu, 'cpumask_test_cpu(cpu, mm_cpumask(next))'));
          if (clear) yield* lockBts(L.cpumask(next), cpu, 'cpumask_set_cpu: LOCK BTS (1)');
          else if (opt.switchingMb) yield* smpMb('smp_mb (1) pairs with flush_tlb_mm_range (1)');
          gen = yield* load(L.tlbGen(next), 'next_tlb_gen = atomic64_read(&next->context.tlb_gen) (1)');
          ns = yield* k.r.choose_new_asid(k, next, gen);
        }
        yield* loadNewMm(k as unknown as K<R414>, next, gen, ns); // (3)
      })(),
    );
  };
}

/** `enter_lazy_tlb(mm, tsk)` (v6.18): `is_lazy = true`; the CPU keeps CR3 and its bit. */
export function* enter_lazy_tlb(k: K<R6>, _mm: MmId): Routine {
  yield* call(
    'enter_lazy_tlb',
    (function* () {
      if ((yield* load(k.L.pcpu(k.cpu, 'loaded_mm'))) === INIT_MM) return;
      yield* store(k.L.pcpu(k.cpu, 'is_lazy'), 1, 'is_lazy = true');
    })(),
  );
}

/**
 * `flush_tlb_func(info)` (arch/x86/mm/tlb.c, v6.18): the IPI handler and the local flush.
 *
 * Ordering:
 * 1. Early exit #1: `f->new_tlb_gen <= local_tlb_gen` returns without reading `mm_tlb_gen`:
 *    every flush up to `local_tlb_gen` is done here.
 * 2. `mm_tlb_gen` is read as late as possible, before the flush; `ctxs[asid].tlb_gen` takes
 *    that value after it. Early exit #2 (`local == mm_tlb_gen`) and the partial-flush rule
 *    are 4.14's (linux-4.14/tlb.ts flush_tlb_func_common (2)).
 */
export function* flush_tlb_func(k: K<R6>, f: FlushInfo6): Routine {
  yield* call(
    'flush_tlb_func',
    (function* () {
      const L = k.L;
      const cpu = k.cpu;
      const loaded = yield* load(L.pcpu(cpu, 'loaded_mm'));
      const asid = yield* load(L.pcpu(cpu, 'loaded_mm_asid'));
      yield* warnOn(!(yield* irqsDisabled()), 'VM_WARN_ON(!irqs_disabled())');
      if (f.mm !== loaded) {
        // "The CPU was left in the mm_cpumask of the target mm. Clear it."
        yield* lockBtr(L.cpumask(f.mm), cpu, 'cpumask_clear_cpu: trim the lazy mm_cpumask');
        return;
      }
      if (loaded === INIT_MM) return;
      if ((yield* load(L.pcpu(cpu, 'is_lazy'))) !== 0) {
        // "We're in lazy mode. We need to at least flush our paging-structure cache to avoid
        // speculatively reading garbage into our TLB. Switching to init_mm is barely slower."
        yield* k.r.switch_mm_irqs_off(k, loaded, INIT_MM);
        return;
      }
      const localGen = yield* load(L.pcpu(cpu, ctxGenField(asid)));
      if (f.newTlbGen <= localGen) return; // (1)
      const mmGen = yield* load(L.tlbGen(loaded), 'mm_tlb_gen = atomic64_read(&loaded_mm->context.tlb_gen) (2)');
      if (localGen === mmGen) return; // (2) "Our TLB is already up to date"
      yield* warnOn(localGen > mmGen, 'WARN_ON_ONCE(local_tlb_gen > mm_tlb_gen)');
      yield* warnOn(f.newTlbGen > mmGen, 'WARN_ON_ONCE(f->new_tlb_gen > mm_tlb_gen)');
      if (f.end !== TLB_FLUSH_ALL && f.newTlbGen === localGen + 1 && f.newTlbGen === mmGen) {
        for (let a = f.start; a < f.end; a += PAGE_SIZE) yield* invlpg(a, 'flush_tlb_one_user (2)');
      } else {
        yield* local_flush_tlb();
      }
      yield* store(L.pcpu(cpu, ctxGenField(asid)), mmGen, 'ctxs[asid].tlb_gen = mm_tlb_gen (2)');
    })(),
  );
}

/**
 * `should_flush_tlb(cpu, info)` (v6.18), on the sender: plain reads of the target's
 * `loaded_mm`, then (after `smp_rmb()`, free on x86) its `is_lazy`. Pairs with
 * switch_mm_irqs_off (1)(2).
 */
export function* should_flush_tlb(k: K<R6>, cpu: CpuId, f: FlushInfo6): Routine<boolean> {
  const L = k.L;
  const loaded = yield* load(L.pcpu(cpu, 'loaded_mm'), `per_cpu(cpu_tlbstate.loaded_mm, cpu${cpu})`);
  // "Lazy TLB will get flushed at the next context switch."
  if ((yield* load(L.pcpu(cpu, 'is_lazy'), `per_cpu(cpu_tlbstate_shared.is_lazy, cpu${cpu})`)) !== 0) return false;
  // "The remote CPU may have either prev or next mm loaded. Assume the worst."
  if (loaded === LOADED_MM_SWITCHING) return true;
  if (loaded === f.mm) return true;
  // "Periodically trim the cpumask of stale CPUs."
  return f.trimCpumask;
}

/**
 * `native_flush_tlb_multi(cpumask, info)` (v6.18): everyone in the mask when tables were
 * freed (`on_each_cpu_mask`), else only where `should_flush_tlb` says so
 * (`on_each_cpu_cond_mask`); both run the local call too when this CPU is in the mask.
 */
export const native_flush_tlb_multi = nativeFlushTlbMulti6({ alwaysCond: false });

/** The 6.18 routine, or (`alwaysCond`, bug variant) one that filters lazy CPUs even when tables were freed. */
export function nativeFlushTlbMulti6(opt: { readonly alwaysCond: boolean }) {
  return function* native_flush_tlb_multi(k: K<R6>, f: FlushInfo6): Routine {
    const fn = `flush_tlb_func(${describeFlush(k.L, f)})`;
    const func = (kt: K<CoreRoutines>): Routine => (kt as K<R6>).r.flush_tlb_func(kt as K<R6>, f);
    const cond = (kc: K<CoreRoutines>, c: CpuId): Routine<boolean> => (kc as K<R6>).r.should_flush_tlb(kc as K<R6>, c, f);
    const all = f.freedTables && !opt.alwaysCond;
    yield* call('native_flush_tlb_multi', smp_call_function_many_cond(k, all ? undefined : cond, k.L.cpumask(f.mm), fn, func));
  };
}

/**
 * `flush_tlb_mm_range(mm, start, end, stride_shift, freed_tables)` (v6.18).
 *
 * Ordering:
 * 1. `inc_mm_tlb_gen` (LOCK XADD, "also a barrier that synchronizes with switch_mm()")
 *    drains the caller's PTE stores before the reads of `mm_cpumask`, `loaded_mm` and
 *    `is_lazy`; pairs with switch_mm_irqs_off (1)(2).
 */
export const flush_tlb_mm_range = flushTlbMmRange6({ trim: false });

/** The 6.18 routine with `should_trim_cpumask(mm)` fixed to `opt.trim` (false: see the file header). */
export function flushTlbMmRange6(opt: { readonly trim: boolean }) {
  return function* flush_tlb_mm_range(k: K<R6>, mm: MmId, start: number, end: number, freedTables: boolean): Routine {
    yield* call(
      'flush_tlb_mm_range',
      (function* () {
        const token = yield* flushBegin(mm, start, end);
        const gen = yield* inc_mm_tlb_gen(k.L, mm, 'inc_mm_tlb_gen: LOCK XADD (1)');
        const whole = (end - start) / PAGE_SIZE > FLUSH_CEILING;
        const f: FlushInfo6 = {
          mm,
          start: whole ? 0 : start,
          end: whole ? TLB_FLUSH_ALL : end,
          newTlbGen: gen,
          freedTables,
          initiatingCpu: k.cpu,
          trimCpumask: opt.trim, // should_trim_cpumask(mm)
        };
        if (yield* cpumaskAnyBut(k.L.cpumask(mm), k.cpu, 'cpumask_any_but(mm_cpumask(mm), cpu)')) {
          yield* k.r.native_flush_tlb_multi(k, f);
        } else if (mm === (yield* load(k.L.pcpu(k.cpu, 'loaded_mm')))) {
          yield* irqDisable('local_irq_disable');
          yield* k.r.flush_tlb_func(k, f);
          yield* irqEnable('local_irq_enable');
        }
        yield* flushEnd(token);
      })(),
    );
  };
}
