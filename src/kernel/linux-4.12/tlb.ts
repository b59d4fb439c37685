/**
 * Linux 4.12 arch/x86/mm/tlb.c (the "-" side of seed 004, docs/seeds.md): `cpu_tlbstate.active_mm` and
 * `TLBSTATE_LAZY`; `leave_mm` clears the CPU's bit and loads `swapper_pg_dir` but keeps
 * `active_mm`; the same-mm switch reloads CR3 when leave_mm had cleared the bit. No PCID.
 * Read at torvalds/linux ce27374fabf5 (the last tlb.c change before v4.13's rework).
 *
 * Not modelled: `load_mm_cr4`, LDT reload, the VMAP_STACK PGD sync, UV, tracing.
 * One file for the whole protocol of the version, as for 4.13.
 */
import type { MmId } from '../../machine/types.ts';
import { PAGE_SIZE } from '../../machine/types.ts';
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
  load,
  lockBtr,
  lockBts,
  smpMb,
  store,
  writeCr3,
} from '../fx.ts';
import { INIT_MM, NO_MM, TLBSTATE_LAZY, TLBSTATE_OK } from '../layout.ts';
import type { MmRoutines } from '../common/sched.ts';
import { smp_call_function_many } from '../common/smp.ts';
import { FLUSH_CEILING, type FlushInfo, TLB_FLUSH_ALL, describeFlush } from '../linux-4.13/tlb.ts';

export interface R412 extends MmRoutines {
  leave_mm(k: K<R412>): Routine;
  /**
   * The inline block shared by `flush_tlb_func` and `flush_tlb_mm_range`: `local_flush_tlb()`
   * for a full flush, else `__flush_tlb_single()` per page. A table entry so that KAISER, whose
   * `__flush_tlb*` also flush the user PCID, reuses both callers unchanged.
   */
  flush_tlb_local_range(k: K<R412>, f: FlushInfo): Routine;
  flush_tlb_func(k: K<R412>, f: FlushInfo): Routine;
  native_flush_tlb_others(k: K<R412>, f: FlushInfo): Routine;
}

function* load_cr3(k: K<R412>, mm: MmId, tag?: string): Routine {
  yield* writeCr3(k.L.mm(mm).pgd, 0, false, tag);
}

/** Flush `f`'s range on this CPU: `local_flush_tlb()` or one INVLPG per page. */
export function* flush_tlb_local_range(k: K<R412>, f: FlushInfo): Routine {
  if (f.end === TLB_FLUSH_ALL) {
    const mm = yield* load(k.L.pcpu(k.cpu, 'active_mm'));
    yield* load_cr3(k, mm, 'local_flush_tlb: CR3 reload');
  } else {
    for (let a = f.start; a < f.end; a += PAGE_SIZE) yield* invlpg(a, '__flush_tlb_single');
  }
}

/**
 * `switch_mm_irqs_off(prev, next, tsk)` (4.12).
 *
 * Ordering:
 * 1. Set our bit in `mm_cpumask(next)` before `load_cr3(next->pgd)`: the serializing CR3 write
 *    keeps TLB fills of `next` after the bit is visible; pairs with flush_tlb_mm_range (1).
 * 2. Same-mm path after leave_mm: set the bit again, then reload CR3 "to make sure to use no
 *    freed page tables", the same pairing.
 */
export function* switch_mm_irqs_off(k: K<R412>, prev: MmId, next: MmId): Routine {
  yield* call(
    'switch_mm_irqs_off',
    (function* () {
      const L = k.L;
      const cpu = k.cpu;
      if (prev !== next) {
        yield* store(L.pcpu(cpu, 'state'), TLBSTATE_OK);
        yield* store(L.pcpu(cpu, 'active_mm'), next);
        yield* lockBts(L.cpumask(next), cpu, 'cpumask_set_cpu (1)');
        yield* load_cr3(k, next, 'load_cr3(next->pgd) (1) pairs with flush_tlb_mm_range (1)');
        yield* lockBtr(L.cpumask(prev), cpu, 'stop flush IPIs for the previous mm');
        return;
      }
      yield* store(L.pcpu(cpu, 'state'), TLBSTATE_OK);
      yield* bugOn((yield* load(L.pcpu(cpu, 'active_mm'))) !== next, 'BUG_ON(cpu_tlbstate.active_mm != next)');
      const m = yield* load(L.cpumask(next));
      if (!bit(m, cpu)) {
        // We were lazy and leave_mm disabled flush IPIs: reload CR3.
        yield* lockBts(L.cpumask(next), cpu, 'cpumask_set_cpu (2)');
        yield* load_cr3(k, next, 'load_cr3: use no freed page tables (2)');
      }
    })(),
  );
}

/** `enter_lazy_tlb` (4.12): OK -> LAZY; the bit stays set, CR3 unchanged. */
export function* enter_lazy_tlb(k: K<R412>, _mm: MmId): Routine {
  yield* call(
    'enter_lazy_tlb',
    (function* () {
      const st = k.L.pcpu(k.cpu, 'state');
      if ((yield* load(st)) === TLBSTATE_OK) yield* store(st, TLBSTATE_LAZY);
    })(),
  );
}

/** `leave_mm(cpu)` (4.12): clear our bit and load swapper_pg_dir; `active_mm` is kept. */
export function* leave_mm(k: K<R412>): Routine {
  yield* call(
    'leave_mm',
    (function* () {
      const am = yield* load(k.L.pcpu(k.cpu, 'active_mm'));
      yield* bugOn((yield* load(k.L.pcpu(k.cpu, 'state'))) === TLBSTATE_OK, 'BUG: leave_mm with TLBSTATE_OK');
      const m = yield* load(k.L.cpumask(am));
      if (bit(m, k.cpu)) {
        yield* lockBtr(k.L.cpumask(am), k.cpu, 'cpumask_clear_cpu: stop flush IPIs');
        yield* load_cr3(k, INIT_MM, 'load_cr3(swapper_pg_dir)');
      }
    })(),
  );
}

/** `flush_tlb_func(info)` (4.12): the IPI handler. */
export function* flush_tlb_func(k: K<R412>, f: FlushInfo): Routine {
  yield* call(
    'flush_tlb_func',
    (function* () {
      if (f.mm !== (yield* load(k.L.pcpu(k.cpu, 'active_mm')))) return;
      if ((yield* load(k.L.pcpu(k.cpu, 'state'))) === TLBSTATE_OK) yield* k.r.flush_tlb_local_range(k, f);
      else yield* k.r.leave_mm(k);
    })(),
  );
}

export function* native_flush_tlb_others(k: K<R412>, f: FlushInfo): Routine {
  yield* call(
    'native_flush_tlb_others',
    smp_call_function_many(k, k.L.cpumask(f.mm), `flush_tlb_func(${describeFlush(k.L, f)})`, (kt) =>
      (kt as K<R412>).r.flush_tlb_func(kt as K<R412>, f),
    ),
  );
}

/**
 * `flush_tlb_mm_range(mm, start, end, vmflag)` (4.12).
 *
 * Ordering:
 * 1. The caller's PTE store is ordered before the read of `mm_cpumask(mm)`: by `smp_mb()`
 *    when `mm` is not our active mm or we are a kernel thread ("Synchronize with switch_mm"),
 *    else by the serializing local flush ("Both branches below are implicit full barriers").
 *    Pairs with switch_mm_irqs_off (1)(2).
 */
export function* flush_tlb_mm_range(k: K<R412>, mm: MmId, start: number, end: number, _freed: boolean): Routine {
  yield* call(
    'flush_tlb_mm_range',
    (function* () {
      const token = yield* flushBegin(mm, start, end);
      const pages = (end - start) / PAGE_SIZE;
      const f: FlushInfo = pages <= FLUSH_CEILING ? { mm, start, end } : { mm, start: 0, end: TLB_FLUSH_ALL };
      if ((yield* load(k.L.pcpu(k.cpu, 'cur_active_mm'))) !== mm) {
        yield* smpMb('smp_mb: synchronize with switch_mm (1)');
      } else if ((yield* load(k.L.pcpu(k.cpu, 'cur_mm'))) === NO_MM) {
        yield* k.r.leave_mm(k);
        yield* smpMb('smp_mb: synchronize with switch_mm (1)');
      } else {
        yield* k.r.flush_tlb_local_range(k, f); // implicit full barrier (1)
      }
      if (yield* cpumaskAnyBut(k.L.cpumask(mm), k.cpu, 'cpumask_any_but')) yield* k.r.native_flush_tlb_others(k, f);
      yield* flushEnd(token);
    })(),
  );
}
