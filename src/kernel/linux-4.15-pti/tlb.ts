/**
 * Linux 4.15 arch/x86/mm/tlb.c with PTI (seed 001, docs/seeds.md): the 4.14 PCID/`tlb_gen` protocol plus
 * the PTI user-PCID handling. Read as the 4.14-final text (torvalds a501686b) with the PTI
 * additions of 4.15 (notes kernel-pti-420-modern.md 2.2; kernel-4.12-4.14.md 4).
 *
 * One file for the protocol of the version (switch, lazy, flush handler, flush senders),
 * as for 4.13; the ordering comments pair across these routines.
 *
 * Not modelled: IBPB, the VMAP_STACK PGD sync, `load_mm_cr4`, LDT, `last_ctx_id`, tracing,
 * the DEBUG_VM CR3 check, `arch_tlbbatch_flush`. None touches a CR3, TLB, cpumask or tlb_gen.
 */
import type { MmId } from '../../machine/types.ts';
import { PAGE_SIZE, hex } from '../../machine/types.ts';
import {
  type K,
  type Routine,
  bit,
  call,
  cpumaskAnyBut,
  flushBegin,
  flushEnd,
  irqDisable,
  irqEnable,
  irqsDisabled,
  load,
  lockBtr,
  lockBts,
  store,
  warnOn,
  xadd,
} from '../fx.ts';
import { INIT_MM, type Layout } from '../layout.ts';
import type { MmRoutines } from '../common/sched.ts';
import { queueAndWait, smp_call_function_single } from '../common/smp.ts';
import type { CoreRoutines } from '../variant.ts';
import { FLUSH_CEILING, TLB_FLUSH_ALL, remoteFlush } from '../linux-4.13/tlb.ts';
import { choose_new_asid, ctxGenField, ctxIdField, load_new_mm_cr3 } from './asid.ts';
import { __flush_tlb_all, __flush_tlb_one_kernel, __native_flush_tlb } from './tlbflush.ts';

export interface FlushInfo415 {
  readonly mm: MmId;
  readonly start: number;
  readonly end: number;
  readonly newTlbGen: number;
}

export interface R415 extends MmRoutines {
  flush_tlb_func_common(k: K<R415>, f: FlushInfo415, local: boolean): Routine;
  flush_tlb_func_remote(k: K<R415>, f: FlushInfo415): Routine;
  native_flush_tlb_others(k: K<R415>, f: FlushInfo415): Routine;
  /** `__flush_tlb_one_user(addr)` (tlbflush.ts), through the table so a variant can swap it. */
  flush_tlb_one_user(k: K<R415>, addr: number): Routine;
  /** The per-CPU body of `flush_tlb_kernel_range` for a small range. */
  do_kernel_range_flush(k: K<R415>, start: number, end: number): Routine;
  flush_tlb_kernel_range(k: K<CoreRoutines>, start: number, end: number): Routine;
}

/** `prev` of `switch_mm(NULL, &init_mm, NULL)`: unused by the 4.15 switch, which reads `loaded_mm`. */
const NO_PREV: MmId = INIT_MM;

const describe = (L: Layout, f: FlushInfo415): string =>
  `${L.mmName(f.mm)}, ${f.end === TLB_FLUSH_ALL ? 'all' : `${hex(f.start)}-${hex(f.end)}`}, gen ${f.newTlbGen}`;

/**
 * `switch_mm_irqs_off(prev, next, tsk)` (4.15).
 *
 * Ordering:
 * 1. `cpumask_set_cpu(cpu, mm_cpumask(next))` (LOCK BTS) before the read of
 *    `next->context.tlb_gen` ("Start remote flushes and then read tlb_gen"): with the
 *    flusher's LOCK XADD of tlb_gen before its mask read (flush_tlb_mm_range (1)), either
 *    the flusher sees our bit and IPIs us, or we see its new generation and flush.
 * 2. The CR3 write (load_new_mm_cr3) is serializing: no fill from `next` before (1).
 * 3. `loaded_mm` is written after CR3, with IRQs off, so no flush IPI sees the gap.
 */
export function* switch_mm_irqs_off(k: K<R415>, _prev: MmId, next: MmId): Routine {
  yield* call(
    'switch_mm_irqs_off',
    (function* () {
      const L = k.L;
      const cpu = k.cpu;
      const realPrev = yield* load(L.pcpu(cpu, 'loaded_mm'));
      yield* warnOn(!(yield* irqsDisabled()), 'WARN_ON_ONCE(!irqs_disabled())');
      yield* store(L.pcpu(cpu, 'is_lazy'), 0);
      if (realPrev === next) {
        // "We don't currently support having a real mm loaded without our cpu set in mm_cpumask()."
        const m = yield* load(L.cpumask(next));
        if (yield* warnOn(realPrev !== INIT_MM && !bit(m, cpu), 'WARN_ON_ONCE(!cpumask_test_cpu(cpu, mm_cpumask(next)))')) {
          yield* lockBts(L.cpumask(next), cpu);
        }
        return;
      }
      if (realPrev !== INIT_MM) yield* lockBtr(L.cpumask(realPrev), cpu, 'stop remote flushes for the previous mm');
      if (next !== INIT_MM) yield* lockBts(L.cpumask(next), cpu, 'cpumask_set_cpu (1)');
      const nextTlbGen = yield* load(L.tlbGen(next), 'atomic64_read(&next->context.tlb_gen) (1)');
      const { asid, needFlush } = yield* choose_new_asid(k, next, nextTlbGen);
      if (needFlush) {
        yield* store(L.pcpu(cpu, ctxIdField(asid)), L.mm(next).ctxId);
        yield* store(L.pcpu(cpu, ctxGenField(asid)), nextTlbGen);
      }
      yield* load_new_mm_cr3(k, next, asid, needFlush); // (2)
      yield* store(L.pcpu(cpu, 'loaded_mm'), next, 'loaded_mm = next (3)');
      yield* store(L.pcpu(cpu, 'loaded_mm_asid'), asid);
    })(),
  );
}

/**
 * `enter_lazy_tlb(mm, tsk)` (tlb.c, 4.14-4.15): with PCID, lazy mode is off
 * (`tlb_use_lazy_mode` is cleared at boot) and the CPU switches to init_mm at once.
 */
export function* enter_lazy_tlb(k: K<R415>, _mm: MmId): Routine {
  yield* call(
    'enter_lazy_tlb',
    (function* () {
      if ((yield* load(k.L.pcpu(k.cpu, 'loaded_mm'))) === INIT_MM) return;
      if (!k.features.pcid) yield* store(k.L.pcpu(k.cpu, 'is_lazy'), 1, 'is_lazy = true');
      else yield* k.r.switch_mm_irqs_off(k, NO_PREV, INIT_MM); // switch_mm(NULL, &init_mm, NULL)
    })(),
  );
}

/**
 * `flush_tlb_func_common(f, local, reason)` (4.14-4.19).
 *
 * Ordering:
 * 1. `mm_tlb_gen` is read before the flush; TLB fills after the flush are ordered after
 *    that read because the flush instructions serialize.
 */
export function* flush_tlb_func_common(k: K<R415>, f: FlushInfo415, _local: boolean): Routine {
  yield* call(
    'flush_tlb_func_common',
    (function* () {
      const L = k.L;
      const cpu = k.cpu;
      const loaded = yield* load(L.pcpu(cpu, 'loaded_mm'));
      const asid = yield* load(L.pcpu(cpu, 'loaded_mm_asid'));
      const mmTlbGen = yield* load(L.tlbGen(loaded), 'atomic64_read(&loaded_mm->context.tlb_gen) (1)');
      const localTlbGen = yield* load(L.pcpu(cpu, ctxGenField(asid)));
      yield* warnOn(!(yield* irqsDisabled()), 'VM_WARN_ON(!irqs_disabled())');
      if (loaded === INIT_MM) return;
      if ((yield* load(L.pcpu(cpu, 'is_lazy'))) !== 0) {
        yield* k.r.switch_mm_irqs_off(k, NO_PREV, INIT_MM);
        return;
      }
      if (localTlbGen === mmTlbGen) return; // already caught up by a concurrent flush
      yield* warnOn(localTlbGen > mmTlbGen, 'WARN_ON_ONCE(local_tlb_gen > mm_tlb_gen)');
      if (f.end !== TLB_FLUSH_ALL && f.newTlbGen === localTlbGen + 1 && f.newTlbGen === mmTlbGen) {
        for (let a = f.start; a < f.end; a += PAGE_SIZE) yield* k.r.flush_tlb_one_user(k, a);
      } else {
        yield* __native_flush_tlb(k); // local_flush_tlb()
      }
      yield* store(L.pcpu(cpu, ctxGenField(asid)), mmTlbGen, 'ctxs[asid].tlb_gen = mm_tlb_gen');
    })(),
  );
}

// flush_tlb_func_remote and native_flush_tlb_others: the 4.13 code, unchanged in 4.15.
const remote415 = remoteFlush<FlushInfo415>(describe);
export const flush_tlb_func_remote = remote415.flush_tlb_func_remote;
export const native_flush_tlb_others = remote415.native_flush_tlb_others;

/**
 * `flush_tlb_mm_range(mm, start, end, vmflag)` (4.14-4.15).
 *
 * Ordering:
 * 1. `inc_mm_tlb_gen(mm)` (LOCK XADD) is "also a barrier that synchronizes with switch_mm()":
 *    the caller's PTE store and the new generation are visible before the mask read;
 *    pairs with switch_mm_irqs_off (1).
 */
export function* flush_tlb_mm_range(k: K<R415>, mm: MmId, start: number, end: number, _freed: boolean): Routine {
  yield* call(
    'flush_tlb_mm_range',
    (function* () {
      const token = yield* flushBegin(mm, start, end);
      const newTlbGen = (yield* xadd(k.L.tlbGen(mm), 1, 'inc_mm_tlb_gen (1)')) + 1;
      const pages = (end - start) / PAGE_SIZE;
      const f: FlushInfo415 = pages <= FLUSH_CEILING ? { mm, start, end, newTlbGen } : { mm, start: 0, end: TLB_FLUSH_ALL, newTlbGen };
      if (mm === (yield* load(k.L.pcpu(k.cpu, 'loaded_mm')))) {
        yield* warnOn(yield* irqsDisabled(), 'VM_WARN_ON(irqs_disabled())');
        yield* irqDisable();
        yield* call('flush_tlb_func_local', k.r.flush_tlb_func_common(k, f, true));
        yield* irqEnable();
      }
      if (yield* cpumaskAnyBut(k.L.cpumask(mm), k.cpu, 'cpumask_any_but (1)')) yield* k.r.native_flush_tlb_others(k, f);
      yield* flushEnd(token);
    })(),
  );
}

/** `do_kernel_range_flush(info)`: `__flush_tlb_one_kernel` [4.15.0: `__flush_tlb_one`] per page. */
export function* do_kernel_range_flush(k: K<R415>, start: number, end: number): Routine {
  yield* call(
    'do_kernel_range_flush',
    (function* () {
      for (let a = start; a < end; a += PAGE_SIZE) yield* __flush_tlb_one_kernel(k, a);
    })(),
  );
}

/**
 * `on_each_cpu(func, info, wait=1)` (kernel/smp.c): the other online CPUs through
 * `smp_call_function()`, then this one with IRQs off. `cpu_online_mask` is constant in the
 * model (every CPU online), so reading it is no shared access and is not an effect.
 */
export function* on_each_cpu(k: K<R415>, fn: string, func: (k: K<R415>) => Routine): Routine {
  yield* call(
    'on_each_cpu',
    (function* () {
      yield* warnOn(yield* irqsDisabled(), 'smp_call_function with IRQs off');
      const others: number[] = [];
      for (let c = 0; c < k.L.cpus; c++) if (c !== k.cpu) others.push(c);
      const run = (kt: K<CoreRoutines>): Routine => func(kt as K<R415>);
      if (others.length === 1) yield* smp_call_function_single(k, others[0]!, fn, run);
      else if (others.length > 1) yield* queueAndWait(k, others, fn, run);
      yield* irqDisable('local_irq_save');
      yield* func(k);
      yield* irqEnable('local_irq_restore');
    })(),
  );
}

/**
 * `flush_tlb_kernel_range(start, end)` (tlb.c, 4.15): a full flush on every CPU for a large
 * range, else `do_kernel_range_flush` on every CPU. Returns when every CPU has run it.
 */
export function* flush_tlb_kernel_range(kc: K<CoreRoutines>, start: number, end: number): Routine {
  const k = kc as K<R415>;
  yield* call(
    'flush_tlb_kernel_range',
    (function* () {
      const token = yield* flushBegin(INIT_MM, start, end, true);
      if (end === TLB_FLUSH_ALL || (end - start) / PAGE_SIZE > FLUSH_CEILING) {
        yield* on_each_cpu(k, 'do_flush_tlb_all', (kt) => __flush_tlb_all(kt));
      } else {
        yield* on_each_cpu(k, `do_kernel_range_flush(${hex(start)}-${hex(end)})`, (kt) => kt.r.do_kernel_range_flush(kt, start, end));
      }
      yield* flushEnd(token);
    })(),
  );
}
