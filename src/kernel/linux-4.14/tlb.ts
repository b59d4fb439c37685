/**
 * Linux 4.14 arch/x86/mm/tlb.c with PCID: `cpu_tlbstate.ctxs[]`, `ctx_id`, `tlb_gen`,
 * `choose_new_asid` (common/asid.ts), NOFLUSH CR3 loads, and the partial-vs-full flush rule
 * of `flush_tlb_func_common`. Seed 001's generation.
 *
 * Which 4.14: the release (v4.14), i.e. after "x86/mm: Flush more aggressively in lazy TLB
 * mode" (b956575bed91, 4.14-rc5), not the rc1 design where a lazy CPU cleared its cpumask
 * bit and ignored flushes. In the release, lazy is the per-CPU `is_lazy` flag, the bit stays
 * set, a flush IPI to a lazy CPU switches it to init_mm, and `tlb_use_lazy_mode` is turned
 * off at boot when the CPU has PCID (`init_tlb_use_lazy_mode`), so with PCID
 * `enter_lazy_tlb` switches to init_mm at once. Sources: arch/x86/mm/tlb.c of v4.14 (at commit
 * 10af6235, which brings the PCID design, read in full; the release shape after b956575bed91
 * checked against a backport).
 *
 * One file for the protocol of the version, like 4.13: its ordering comments pair with each
 * other. Not modelled: `load_mm_cr4`, the LDT, VMAP_STACK PGD sync, UV, tracing, and the
 * DEBUG_VM CR3 check; none touches CR3, a TLB, a cpumask, a tlb_gen or a PTE.
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
  invlpg,
  irqDisable,
  irqEnable,
  irqsDisabled,
  load,
  lockBtr,
  lockBts,
  readCr3,
  store,
  warnOn,
  writeCr3,
} from '../fx.ts';
import { INIT_MM, type Layout } from '../layout.ts';
import type { MmRoutines } from '../common/sched.ts';
import { remoteFlush } from '../linux-4.13/tlb.ts';
import { type NewAsid, ctxGenField, ctxIdField, inc_mm_tlb_gen, kernPcid } from '../common/asid.ts';

export const TLB_FLUSH_ALL = -1;
export const FLUSH_CEILING = 33;

/** `struct flush_tlb_info` (4.14; `freed_tables` from 4.19). */
export interface FlushInfo {
  readonly mm: MmId;
  readonly start: number;
  readonly end: number;
  readonly newTlbGen: number;
  readonly freedTables: boolean;
}

export interface R414 extends MmRoutines {
  choose_new_asid(k: K<R414>, next: MmId, nextTlbGen: number): Routine<NewAsid>;
  flush_tlb_func_common(k: K<R414>, f: FlushInfo, local: boolean): Routine;
  flush_tlb_func_local(k: K<R414>, f: FlushInfo): Routine;
  flush_tlb_func_remote(k: K<R414>, f: FlushInfo): Routine;
  native_flush_tlb_others(k: K<R414>, f: FlushInfo): Routine;
}

export function describeFlush(L: Layout, f: FlushInfo): string {
  const r = f.end === TLB_FLUSH_ALL ? 'all' : `${hex(f.start)}-${hex(f.end)}`;
  return `${L.mmName(f.mm)}, ${r}, gen ${f.newTlbGen}${f.freedTables ? ', freed_tables' : ''}`;
}

/**
 * The tail of `switch_mm_irqs_off` from 4.14 on: claim the ASID, write CR3 (NOFLUSH when the
 * slot is current), then publish `loaded_mm`. IRQs are off, so no flush IPI sees the gap.
 */
export function* loadNewMm(k: K<R414>, next: MmId, gen: number, ns: NewAsid): Routine {
  const L = k.L;
  const pcid = kernPcid(k.features.pcid, ns.asid);
  if (ns.needFlush) {
    yield* store(L.pcpu(k.cpu, ctxIdField(ns.asid)), L.mm(next).ctxId);
    yield* store(L.pcpu(k.cpu, ctxGenField(ns.asid)), gen);
    yield* writeCr3(L.mm(next).pgd, pcid, false, 'write_cr3(build_cr3(next->pgd, new_asid)): flush');
  } else {
    yield* writeCr3(L.mm(next).pgd, pcid, true, 'write_cr3(build_cr3_noflush(next->pgd, new_asid))');
  }
  yield* store(L.pcpu(k.cpu, 'loaded_mm'), next);
  yield* store(L.pcpu(k.cpu, 'loaded_mm_asid'), ns.asid);
}

/**
 * `switch_mm_irqs_off(prev, next, tsk)` (arch/x86/mm/tlb.c, v4.14).
 *
 * Ordering:
 * 1. `cpumask_set_cpu(cpu, mm_cpumask(next))` (LOCK BTS) before the read of
 *    `next->context.tlb_gen`: "Start remote flushes and then read tlb_gen". Pairs with
 *    flush_tlb_mm_range (1): the store-buffering pattern with both sides LOCK'd, so either the
 *    flusher sees our bit and IPIs us, or we see its new tlb_gen and flush the slot.
 * 2. The CR3 write (serializing) comes after (1): walks of `next` start only once our bit is
 *    visible, so a flusher that missed the bit also had its PTE store drained by its XADD.
 * 3. `cpumask_clear_cpu(cpu, mm_cpumask(real_prev))` comes before the CR3 write: from here
 *    no flush of `real_prev` reaches us, which is safe because a later switch back compares
 *    `ctxs[asid].tlb_gen` with `real_prev`'s tlb_gen (choose_new_asid).
 */
export function* switch_mm_irqs_off(k: K<R414>, _prev: MmId, next: MmId): Routine {
  yield* call(
    'switch_mm_irqs_off',
    (function* () {
      const L = k.L;
      const cpu = k.cpu;
      const realPrev = yield* load(L.pcpu(cpu, 'loaded_mm'));
      const prevAsid = yield* load(L.pcpu(cpu, 'loaded_mm_asid'));
      yield* store(L.pcpu(cpu, 'is_lazy'), 0);
      if (realPrev === next) {
        const id = yield* load(L.pcpu(cpu, ctxIdField(prevAsid)));
        yield* warnOn(id !== L.mm(next).ctxId, 'VM_WARN_ON(ctxs[prev_asid].ctx_id != next->context.ctx_id)');
        // "We don't currently support having a real mm loaded without our cpu set in mm_cpumask()."
        const m = yield* load(L.cpumask(next));
        if (yield* warnOn(realPrev !== INIT_MM && !bit(m, cpu), 'WARN_ON_ONCE(!cpumask_test_cpu(cpu, mm_cpumask(next)))')) {
          yield* lockBts(L.cpumask(next), cpu);
        }
        return; // A lazy CPU got every flush IPI: nothing to catch up.
      }
      yield* lockBtr(L.cpumask(realPrev), cpu, 'cpumask_clear_cpu(real_prev): stop remote flushes (3)');
      yield* lockBts(L.cpumask(next), cpu, 'cpumask_set_cpu(next): start remote flushes (1)');
      const gen = yield* load(L.tlbGen(next), 'next_tlb_gen = atomic64_read(&next->context.tlb_gen) (1)');
      const ns = yield* k.r.choose_new_asid(k, next, gen);
      yield* loadNewMm(k, next, gen, ns); // (2)
    })(),
  );
}

/**
 * `enter_lazy_tlb(mm, tsk)` (arch/x86/mm/tlb.c, v4.14): with `tlb_use_lazy_mode` (off when
 * the CPU has PCID) set `is_lazy`; otherwise `switch_mm(NULL, &init_mm, NULL)` at once.
 * IRQs are already off in context_switch, so switch_mm's irq save/restore is a no-op here.
 */
export function* enter_lazy_tlb(k: K<R414>, _mm: MmId): Routine {
  yield* call(
    'enter_lazy_tlb',
    (function* () {
      const loaded = yield* load(k.L.pcpu(k.cpu, 'loaded_mm'));
      if (loaded === INIT_MM) return;
      if (!k.features.pcid) yield* store(k.L.pcpu(k.cpu, 'is_lazy'), 1);
      else yield* k.r.switch_mm_irqs_off(k, loaded, INIT_MM);
    })(),
  );
}

/** `local_flush_tlb()` -> `__flush_tlb()`: rewrite CR3 with its own value (flushes that PCID). */
export function* local_flush_tlb(): Routine {
  const cr3 = yield* readCr3();
  yield* writeCr3(cr3.root, cr3.pcid, false, '__flush_tlb: CR3 = CR3');
}

/**
 * `flush_tlb_func_common(f, local, reason)` (arch/x86/mm/tlb.c, v4.14; the same in 4.20).
 * `opt.partialOnSkip` drops the `new_tlb_gen == local_tlb_gen + 1` condition (bug variant).
 *
 * Ordering:
 * 1. `mm_tlb_gen` is read before the flush, and `ctxs[asid].tlb_gen` is set to that value
 *    after it: every PTE change whose generation is <= mm_tlb_gen was made before its
 *    XADD, so the serializing flush cannot keep an entry older than it.
 * 2. A partial flush only when `f->new_tlb_gen == local_tlb_gen + 1` (no other flush is
 *    pending for us) and `== mm_tlb_gen` (none newer): otherwise a full flush, because the
 *    skipped generations' ranges are unknown here. Pairs with a concurrent flush_tlb_mm_range
 *    whose IPI then finds `local_tlb_gen == mm_tlb_gen` and returns early.
 */
export function flushTlbFuncCommon(opt: { readonly partialOnSkip: boolean }) {
  return function* flush_tlb_func_common(k: K<R414>, f: FlushInfo, _local: boolean): Routine {
    yield* call(
      'flush_tlb_func_common',
      (function* () {
        const L = k.L;
        const loaded = yield* load(L.pcpu(k.cpu, 'loaded_mm'));
        const asid = yield* load(L.pcpu(k.cpu, 'loaded_mm_asid'));
        const mmGen = yield* load(L.tlbGen(loaded), 'mm_tlb_gen = atomic64_read(&loaded_mm->context.tlb_gen) (1)');
        const localGen = yield* load(L.pcpu(k.cpu, ctxGenField(asid)));
        yield* warnOn(!(yield* irqsDisabled()), 'VM_WARN_ON(!irqs_disabled())');
        if (loaded === INIT_MM) return;
        if ((yield* load(L.pcpu(k.cpu, 'is_lazy'))) !== 0) {
          // "We're in lazy mode ... we need at least to flush the paging-structure cache; switching
          // to init_mm is barely slower."
          yield* k.r.switch_mm_irqs_off(k, loaded, INIT_MM);
          return;
        }
        if (localGen === mmGen) return; // a concurrent flush already caught us up
        yield* warnOn(localGen > mmGen, 'WARN_ON_ONCE(local_tlb_gen > mm_tlb_gen)');
        yield* warnOn(f.newTlbGen > mmGen, 'WARN_ON_ONCE(f->new_tlb_gen > mm_tlb_gen)');
        const partial =
          f.end !== TLB_FLUSH_ALL && (opt.partialOnSkip || f.newTlbGen === localGen + 1) && f.newTlbGen === mmGen;
        if (partial) {
          for (let a = f.start; a < f.end; a += PAGE_SIZE) yield* invlpg(a, '__flush_tlb_single (2)');
        } else {
          yield* local_flush_tlb();
        }
        yield* store(L.pcpu(k.cpu, ctxGenField(asid)), mmGen, 'ctxs[asid].tlb_gen = mm_tlb_gen (1)');
      })(),
    );
  };
}

// flush_tlb_func_local, flush_tlb_func_remote, native_flush_tlb_others: the 4.13 code (v4.14
// keeps it), naming queued calls with the generation and freed_tables as well.
const remote414 = remoteFlush<FlushInfo>(describeFlush);
export const flush_tlb_func_local = remote414.flush_tlb_func_local;
export const flush_tlb_func_remote = remote414.flush_tlb_func_remote;
export const native_flush_tlb_others = remote414.native_flush_tlb_others;

/**
 * `flush_tlb_mm_range(mm, start, end, vmflag)` (arch/x86/mm/tlb.c, v4.14; `freed_tables`
 * is carried for 4.20, which has the same body).
 *
 * Ordering:
 * 1. `inc_mm_tlb_gen` (LOCK XADD) before the reads of `loaded_mm` and `mm_cpumask`: "This is
 *    also a barrier that synchronizes with switch_mm()", replacing 4.13's `smp_mb()`. It
 *    drains the caller's PTE stores; pairs with switch_mm_irqs_off (1).
 */
export function* flush_tlb_mm_range(k: K<R414>, mm: MmId, start: number, end: number, freedTables: boolean): Routine {
  yield* call(
    'flush_tlb_mm_range',
    (function* () {
      const token = yield* flushBegin(mm, start, end);
      const gen = yield* inc_mm_tlb_gen(k.L, mm, 'inc_mm_tlb_gen: LOCK XADD (1)');
      const pages = (end - start) / PAGE_SIZE;
      const f: FlushInfo =
        pages <= FLUSH_CEILING
          ? { mm, start, end, newTlbGen: gen, freedTables }
          : { mm, start: 0, end: TLB_FLUSH_ALL, newTlbGen: gen, freedTables };
      if (mm === (yield* load(k.L.pcpu(k.cpu, 'loaded_mm')))) {
        yield* warnOn(yield* irqsDisabled(), 'VM_WARN_ON(irqs_disabled())');
        yield* irqDisable();
        yield* k.r.flush_tlb_func_local(k, f);
        yield* irqEnable();
      }
      if (yield* cpumaskAnyBut(k.L.cpumask(mm), k.cpu, 'cpumask_any_but(mm_cpumask(mm), cpu)')) yield* k.r.native_flush_tlb_others(k, f);
      yield* flushEnd(token);
    })(),
  );
}
