/**
 * Linux 4.13 arch/x86/mm/tlb.c and the inlines it uses from asm/tlbflush.h and
 * asm/mmu_context.h: the "+" side of seed 004 in docs/seeds.md ("x86/mm: Rework lazy TLB to track the actual
 * loaded mm"). No PCID: every CR3 write flushes the non-global TLB.
 *
 * This file holds the whole flush/switch protocol of one kernel version (nine short
 * routines); splitting it would separate routines whose ordering comments pair with each other.
 *
 * Not modelled: `load_mm_cr4`, the LDT reload, the VMAP_STACK PGD sync in switch_mm, the UV
 * flush path, tracing and statistics. None of them touches a CR3, TLB, cpumask or PTE.
 */
import type { MmId } from '../../machine/types.ts';
import { PAGE_SIZE, hex } from '../../machine/types.ts';
import {
  type K,
  type Routine,
  bit,
  bugOn,
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
  smpMb,
  store,
  warnOn,
  writeCr3,
} from '../fx.ts';
import { INIT_MM, type Layout, TLBSTATE_LAZY, TLBSTATE_OK } from '../layout.ts';
import type { MmRoutines } from '../common/sched.ts';
import { smp_call_function_many } from '../common/smp.ts';

export const TLB_FLUSH_ALL = -1;
/** `tlb_single_page_flush_ceiling`: ranges up to this many pages are flushed page by page. */
export const FLUSH_CEILING = 33;

export interface FlushInfo {
  readonly mm: MmId;
  readonly start: number;
  readonly end: number;
}

export interface R413 extends MmRoutines {
  leave_mm(k: K<R413>): Routine;
  load_cr3(k: K<R413>, mm: MmId, tag?: string): Routine;
  flush_tlb_func_common(k: K<R413>, f: FlushInfo, local: boolean): Routine;
  flush_tlb_func_local(k: K<R413>, f: FlushInfo): Routine;
  flush_tlb_func_remote(k: K<R413>, f: FlushInfo): Routine;
  native_flush_tlb_others(k: K<R413>, f: FlushInfo): Routine;
}

export function describeFlush(L: Layout, f: FlushInfo): string {
  return `${L.mmName(f.mm)}, ${f.end === TLB_FLUSH_ALL ? 'all' : `${hex(f.start)}-${hex(f.end)}`}`;
}

/** `load_cr3(pgd)`: `write_cr3(__pa(pgd))`, serializing, flushes the non-global TLB. */
export function* load_cr3(k: K<R413>, mm: MmId, tag?: string): Routine {
  yield* writeCr3(k.L.mm(mm).pgd, 0, false, tag);
}

/**
 * `switch_mm_irqs_off(prev, next, tsk)` (4.13).
 *
 * Ordering:
 * 1. The store setting our bit in `mm_cpumask(next)` is globally visible before any TLB fill
 *    from `next`'s page tables; pairs with flush_tlb_mm_range (1). A flusher that writes a PTE
 *    of `next` and then reads the mask must either see our bit (and IPI us) or have its PTE
 *    store visible to our walks. LOCK orders loads, but not the walker: only the serializing
 *    `load_cr3` (2) orders fills after the bit.
 * 2. `load_cr3(next->pgd)` comes after (1): TLB fills can happen at any time once CR3 points
 *    at `next`, "for no reason at all", and neither LOCK nor MFENCE orders them.
 */
export const switch_mm_irqs_off = switchMmIrqsOff413({ cr3BeforeCpumask: false });

/** The 4.13 switch, or (for the bug variant) the same code with `load_cr3` moved up. */
export function switchMmIrqsOff413(opt: { readonly cr3BeforeCpumask: boolean }) {
  return function* switch_mm_irqs_off(k: K<R413>, _prev: MmId, next: MmId): Routine {
    yield* call(
      'switch_mm_irqs_off',
      (function* () {
        const L = k.L;
        const cpu = k.cpu;
        const realPrev = yield* load(L.pcpu(cpu, 'loaded_mm'));
        yield* store(L.pcpu(cpu, 'state'), TLBSTATE_OK);
        if (realPrev === next) {
          // Nothing to do: the per-mm control registers follow loaded_mm. Sanity-check the mask.
          const m = yield* load(L.cpumask(next));
          if (yield* warnOn(!bit(m, cpu), 'WARN_ON_ONCE(!cpumask_test_cpu(cpu, mm_cpumask(next)))')) {
            yield* lockBts(L.cpumask(next), cpu);
          }
          return;
        }
        yield* store(L.pcpu(cpu, 'loaded_mm'), next);
        const m = yield* load(L.cpumask(next));
        yield* warnOn(bit(m, cpu), 'WARN_ON_ONCE(cpumask_test_cpu(cpu, mm_cpumask(next)))');
        if (opt.cr3BeforeCpumask) {
          yield* k.r.load_cr3(k, next, 'load_cr3(next->pgd) BEFORE the cpumask bit: breaks (1)');
          yield* lockBts(L.cpumask(next), cpu, 'cpumask_set_cpu, too late');
        } else {
          yield* lockBts(L.cpumask(next), cpu, 'cpumask_set_cpu (1)');
          yield* k.r.load_cr3(k, next, 'load_cr3(next->pgd) (2) pairs with flush_tlb_mm_range (1)');
        }
        // Stop flush IPIs for the previous mm.
        const pm = yield* load(L.cpumask(realPrev));
        yield* warnOn(
          !bit(pm, cpu) && realPrev !== INIT_MM,
          'WARN_ON_ONCE(!cpumask_test_cpu(cpu, mm_cpumask(real_prev)) && real_prev != &init_mm)',
        );
        yield* lockBtr(L.cpumask(realPrev), cpu, 'cpumask_clear_cpu(real_prev)');
      })(),
    );
  };
}

/** `enter_lazy_tlb(mm, tsk)` (asm/mmu_context.h, 4.13): OK -> LAZY. */
export function* enter_lazy_tlb(k: K<R413>, _mm: MmId): Routine {
  yield* call(
    'enter_lazy_tlb',
    (function* () {
      const st = k.L.pcpu(k.cpu, 'state');
      if ((yield* load(st)) === TLBSTATE_OK) yield* store(st, TLBSTATE_LAZY);
    })(),
  );
}

/**
 * `leave_mm(cpu)` (4.13): a lazy CPU stops using its borrowed mm by switching to init_mm,
 * which also clears its bit in the old mm's cpumask so no more flush IPIs come.
 */
export function* leave_mm(k: K<R413>): Routine {
  yield* call(
    'leave_mm',
    (function* () {
      const loaded = yield* load(k.L.pcpu(k.cpu, 'loaded_mm'));
      // "It's plausible that we're in lazy TLB mode while our mm is init_mm."
      if (loaded === INIT_MM) return;
      const st = yield* load(k.L.pcpu(k.cpu, 'state'));
      yield* bugOn(st === TLBSTATE_OK, 'BUG: leave_mm with cpu_tlbstate.state == TLBSTATE_OK');
      // switch_mm(NULL, &init_mm, NULL): local_irq_save + switch_mm_irqs_off + restore.
      const wasOff = yield* irqsDisabled();
      if (!wasOff) yield* irqDisable('local_irq_save');
      yield* k.r.switch_mm_irqs_off(k, loaded, INIT_MM);
      if (!wasOff) yield* irqEnable('local_irq_restore');
    })(),
  );
}

/**
 * `flush_tlb_func_common(f, local, reason)` (4.13): a lazy CPU leaves the mm instead of
 * flushing; otherwise flush the range page by page, or everything.
 */
export function* flush_tlb_func_common(k: K<R413>, f: FlushInfo, _local: boolean): Routine {
  yield* call(
    'flush_tlb_func_common',
    (function* () {
      yield* warnOn(!(yield* irqsDisabled()), 'VM_WARN_ON(!irqs_disabled())');
      if ((yield* load(k.L.pcpu(k.cpu, 'state'))) !== TLBSTATE_OK) {
        yield* k.r.leave_mm(k);
        return;
      }
      if (f.end === TLB_FLUSH_ALL) {
        // local_flush_tlb() -> __flush_tlb(): reload CR3.
        const mm = yield* load(k.L.pcpu(k.cpu, 'loaded_mm'));
        yield* k.r.load_cr3(k, mm, '__flush_tlb: CR3 reload');
      } else {
        for (let a = f.start; a < f.end; a += PAGE_SIZE) yield* invlpg(a, '__flush_tlb_single');
      }
    })(),
  );
}

/** What the cross-call plumbing below needs of a generation whose flush info is `F`. */
export interface RemoteFlush<F extends FlushInfo> extends MmRoutines {
  flush_tlb_func_common(k: K<RemoteFlush<F>>, f: F, local: boolean): Routine;
  flush_tlb_func_remote(k: K<RemoteFlush<F>>, f: F): Routine;
}

/**
 * `flush_tlb_func_local`, `flush_tlb_func_remote` and `native_flush_tlb_others`, which keep
 * the same code from 4.13 to 4.19; only the flush info (and so how a queued call is named,
 * `describe`) changes between generations.
 */
export function remoteFlush<F extends FlushInfo>(describe: (L: Layout, f: F) => string) {
  return {
    flush_tlb_func_local: function* (k: K<RemoteFlush<F>>, f: F): Routine {
      yield* call('flush_tlb_func_local', k.r.flush_tlb_func_common(k, f, true));
    },
    /** `flush_tlb_func_remote(info)`: the IPI handler; ignores a flush of an mm not loaded here. */
    flush_tlb_func_remote: function* (k: K<RemoteFlush<F>>, f: F): Routine {
      yield* call(
        'flush_tlb_func_remote',
        (function* () {
          if (f.mm !== (yield* load(k.L.pcpu(k.cpu, 'loaded_mm')))) return;
          yield* k.r.flush_tlb_func_common(k, f, false);
        })(),
      );
    },
    /** `native_flush_tlb_others(cpumask, info)`: `smp_call_function_many(..., wait=1)`. */
    native_flush_tlb_others: function* (k: K<RemoteFlush<F>>, f: F): Routine {
      yield* call(
        'native_flush_tlb_others',
        smp_call_function_many(k, k.L.cpumask(f.mm), `flush_tlb_func_remote(${describe(k.L, f)})`, (kt) =>
          (kt as K<RemoteFlush<F>>).r.flush_tlb_func_remote(kt as K<RemoteFlush<F>>, f),
        ),
      );
    },
  };
}

const remote413 = remoteFlush<FlushInfo>(describeFlush);
export const flush_tlb_func_local = remote413.flush_tlb_func_local;
export const flush_tlb_func_remote = remote413.flush_tlb_func_remote;
export const native_flush_tlb_others = remote413.native_flush_tlb_others;

export const flush_tlb_mm_range = flushTlbMmRange413({ smpMb: true });

/** The 4.13 flush, or (for the bug variant) the same code without its `smp_mb()`. */
export function flushTlbMmRange413(opt: { readonly smpMb: boolean }) {
  return function* flush_tlb_mm_range(k: K<R413>, mm: MmId, start: number, end: number, _freed: boolean): Routine {
    yield* call(
      'flush_tlb_mm_range',
      (function* () {
        const token = yield* flushBegin(mm, start, end);
        if (opt.smpMb) yield* smpMb('smp_mb: synchronize with switch_mm (1)');
        const pages = (end - start) / PAGE_SIZE;
        const f: FlushInfo = pages <= FLUSH_CEILING ? { mm, start, end } : { mm, start: 0, end: TLB_FLUSH_ALL };
        if (mm === (yield* load(k.L.pcpu(k.cpu, 'loaded_mm')))) {
          yield* warnOn(yield* irqsDisabled(), 'VM_WARN_ON(irqs_disabled())');
          yield* irqDisable();
          yield* k.r.flush_tlb_func_local(k, f);
          yield* irqEnable();
        }
        // cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids
        const others = yield* cpumaskAnyBut(k.L.cpumask(mm), k.cpu, opt.smpMb ? 'cpumask_any_but' : 'cpumask_any_but, no smp_mb before it');
        if (others) yield* k.r.native_flush_tlb_others(k, f);
        yield* flushEnd(token);
      })(),
    );
  };
}
