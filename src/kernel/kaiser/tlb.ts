/**
 * KAISER in the 4.4/4.9 stable trees (Hugh Dickins' backport, Jan 2018; seed 000, docs/seeds.md): one kernel
 * PCID (0) and one user PCID (128) shared by every mm, so each mm switch must flush both. The
 * kernel PCID is flushed by the CR3 write in `load_new_mm_cr3()`; the user PCID is flushed by
 * INVPCID there (before the seed patch) or noted in the per-cpu user CR3 variable so that
 * `SWITCH_USER_CR3` flushes it on return to user (the seed patch).
 *
 * Sources (notes kernel-pti-420-modern.md section 1): arch/x86/mm/tlb.c `load_new_mm_cr3`,
 * `switch_mm_irqs_off`, `leave_mm`, `flush_tlb_func`, `flush_tlb_mm_range` (4.9 stable, the
 * 4.4 shape: `cpu_tlbstate.state`/`active_mm`); arch/x86/include/asm/tlbflush.h
 * `__native_flush_tlb`, `__native_flush_tlb_single` (4.4 shape with the final KAISER checks);
 * arch/x86/mm/kaiser.c `kaiser_flush_tlb_on_return_to_user`.
 *
 * Simplifications: `kaiser_enabled` is X86_FEATURE_PTI; global pages are off under KAISER
 * ("Globals are not used at all"), so the variants run with PGE off; `switch_mm_irqs_off` and
 * `leave_mm` call `load_new_mm_cr3` (the stable series; the note marks the tree it read as a
 * partial cherry-pick). LDT, CR4, tracing and statistics are not modelled.
 */
import type { MmId } from '../../machine/types.ts';
import { PAGE_SIZE } from '../../machine/types.ts';
import {
  type K,
  type Routine,
  bit,
  bugOn,
  call,
  invlpg,
  invpcid,
  load,
  lockBtr,
  lockBts,
  readCr3,
  store,
  writeCr3,
} from '../fx.ts';
import { INIT_MM, TLBSTATE_OK } from '../layout.ts';
import { type FlushInfo, TLB_FLUSH_ALL } from '../linux-4.13/tlb.ts';
import type { R412 } from '../linux-4.12/tlb.ts';

export const KERN_PCID = 0;
/** `X86_CR3_PCID_ASID_USER`. */
export const USER_PCID = 0x80;
/** `x86_cr3_pcid_user` keeps only bit 63 (NOFLUSH) here: 1 = no flush, 0 = flush on exit. */
export const USER_CR3_NOFLUSH = 1;

export interface RKaiser extends R412 {
  load_new_mm_cr3(k: K<RKaiser>, mm: MmId, tag: string): Routine;
  /** Flush (or arrange to flush) the shared user PCID before the next user access. */
  flush_user_pcid(k: K<RKaiser>): Routine;
}

/** `kaiser_flush_tlb_on_return_to_user()` (kaiser.c, final): SWITCH_USER_CR3 will flush. */
export function* kaiser_flush_tlb_on_return_to_user(k: K<RKaiser>): Routine {
  if (!k.features.pcid) return; // without PCID every CR3 write flushes anyway
  yield* store(k.L.pcpu(k.cpu, 'kaiser_user_cr3'), 0, 'x86_cr3_pcid_user = USER_FLUSH | SHADOW_PGD_OFFSET');
}

/** Before the seed patch: `invpcid_flush_single_context(X86_CR3_PCID_ASID_USER)`; #UD without INVPCID. */
export function* invpcid_flush_user(k: K<RKaiser>): Routine {
  if (!k.features.pcid) return;
  yield* invpcid(1, USER_PCID, 0, 'invpcid_flush_single_context(X86_CR3_PCID_ASID_USER)');
}

/**
 * `load_new_mm_cr3(pgdir)` (tlb.c, KAISER).
 *
 * Ordering:
 * 1. The user PCID is flushed, or marked for the exit (2), before any user access of `mm`:
 *    the PCID is "reused for different tasks, so all of its entries must go on every task
 *    change". Pairs with entry.ts SWITCH_USER_CR3 (1).
 * 2. `write_cr3` with KERN_FLUSH (NOFLUSH clear) flushes the kernel PCID; it is serializing
 *    and orders TLB fills after the caller's mm_cpumask write.
 */
export function* load_new_mm_cr3(k: K<RKaiser>, mm: MmId, tag: string): Routine {
  yield* call(
    'load_new_mm_cr3',
    (function* () {
      if (k.features.pti) yield* k.r.flush_user_pcid(k); // (1)
      yield* writeCr3(k.L.mm(mm).pgd, KERN_PCID, false, `${tag} (2)`);
    })(),
  );
}

/** `__native_flush_tlb()` (tlbflush.h, 4.4 shape): INVPCID fast path, else CR3 = CR3. */
function* __native_flush_tlb(k: K<RKaiser>): Routine {
  yield* call(
    '__native_flush_tlb',
    (function* () {
      if (k.features.invpcid) {
        yield* invpcid(3, 0, 0, 'invpcid_flush_all_nonglobals: every PCID, user 128 too');
        return;
      }
      if (k.features.pti) yield* k.r.flush_user_pcid(k);
      const cr3 = yield* readCr3();
      yield* writeCr3(cr3.root, cr3.pcid, false, 'native_write_cr3(native_read_cr3())');
    })(),
  );
}

/** `__native_flush_tlb_single(addr)` (tlbflush.h): both PCIDs by INVPCID, else INVLPG + user note. */
function* __native_flush_tlb_single(k: K<RKaiser>, addr: number): Routine {
  yield* call(
    '__native_flush_tlb_single',
    (function* () {
      if (!k.features.invpcid) {
        if (k.features.pti) yield* k.r.flush_user_pcid(k);
        yield* invlpg(addr, 'INVLPG: kernel PCID');
        return;
      }
      if (k.features.pti) yield* invpcid(0, USER_PCID, addr, 'invpcid_flush_one(USER, addr)');
      yield* invpcid(0, KERN_PCID, addr, 'invpcid_flush_one(KERN, addr)');
    })(),
  );
}

/**
 * The 4.12 inline flush block with KAISER's `__flush_tlb`/`__flush_tlb_single`; 4.9's
 * `flush_tlb_func` and `flush_tlb_mm_range` are the 4.12 ones (same code in both trees).
 */
export function* flush_tlb_local_range(k: K<RKaiser>, f: FlushInfo): Routine {
  if (f.end === TLB_FLUSH_ALL) yield* __native_flush_tlb(k); // local_flush_tlb()
  else for (let a = f.start; a < f.end; a += PAGE_SIZE) yield* __native_flush_tlb_single(k, a);
}

/**
 * `switch_mm_irqs_off(prev, next, tsk)` (4.9 stable, KAISER).
 *
 * Ordering:
 * 1. Set our bit in `mm_cpumask(next)` (LOCK BTS) before `load_new_mm_cr3(next->pgd)`, whose
 *    serializing CR3 write keeps TLB fills after it; pairs with flush_tlb_mm_range (1).
 * 2. Same-mm path after leave_mm: set the bit, then reload CR3.
 */
export function* switch_mm_irqs_off(k: K<RKaiser>, prev: MmId, next: MmId): Routine {
  yield* call(
    'switch_mm_irqs_off',
    (function* () {
      const L = k.L;
      const cpu = k.cpu;
      if (prev !== next) {
        yield* store(L.pcpu(cpu, 'state'), TLBSTATE_OK);
        yield* store(L.pcpu(cpu, 'active_mm'), next);
        yield* lockBts(L.cpumask(next), cpu, 'cpumask_set_cpu (1)');
        yield* k.r.load_new_mm_cr3(k, next, 'load_new_mm_cr3(next->pgd), pairs with flush_tlb_mm_range (1)');
        yield* lockBtr(L.cpumask(prev), cpu, 'stop flush IPIs for the previous mm');
        return;
      }
      yield* store(L.pcpu(cpu, 'state'), TLBSTATE_OK);
      yield* bugOn((yield* load(L.pcpu(cpu, 'active_mm'))) !== next, 'BUG_ON(cpu_tlbstate.active_mm != next)');
      const m = yield* load(L.cpumask(next));
      if (!bit(m, cpu)) {
        yield* lockBts(L.cpumask(next), cpu, 'cpumask_set_cpu (2)');
        yield* k.r.load_new_mm_cr3(k, next, 'load_new_mm_cr3: use no freed page tables (2)');
      }
    })(),
  );
}

/** `leave_mm(cpu)` (4.9): clear our bit and load swapper_pg_dir; `active_mm` is kept. */
export function* leave_mm(k: K<RKaiser>): Routine {
  yield* call(
    'leave_mm',
    (function* () {
      const am = yield* load(k.L.pcpu(k.cpu, 'active_mm'));
      yield* bugOn((yield* load(k.L.pcpu(k.cpu, 'state'))) === TLBSTATE_OK, 'BUG: leave_mm with TLBSTATE_OK');
      const m = yield* load(k.L.cpumask(am));
      if (bit(m, k.cpu)) {
        yield* lockBtr(k.L.cpumask(am), k.cpu, 'cpumask_clear_cpu: stop flush IPIs');
        yield* k.r.load_new_mm_cr3(k, INIT_MM, 'load_new_mm_cr3(swapper_pg_dir)');
      }
    })(),
  );
}

