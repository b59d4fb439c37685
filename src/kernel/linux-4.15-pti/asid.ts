/**
 * Linux 4.15 PTI: ASIDs and PCIDs (arch/x86/include/asm/tlbflush.h, arch/x86/mm/tlb.c @ v4.15;
 * bodies as in the 4.15-4.20 tlbflush.h, notes kernel-pti-420-modern.md 2.1/2.2), and the
 * deferred user-PCID flush: `kern_pcid`, `user_pcid`, `invalidate_user_asid`,
 * `invalidate_other_asid`, `clear_asid_other`, `choose_new_asid`, `load_new_mm_cr3`.
 *
 * Simplification: `TLB_NR_DYN_ASIDS` is 3, not 6 (the per-CPU layout has three slots); the
 * scenarios use at most three mms per CPU, so no slot is evicted that the kernel would keep.
 */
import type { MmId } from '../../machine/types.ts';
import { type K, type Routine, call, load, store, writeCr3 } from '../fx.ts';
import type { PcpuField } from '../layout.ts';
import type { CoreRoutines } from '../variant.ts';

export const TLB_NR_DYN_ASIDS = 3;
/** `X86_CR3_PTI_SWITCH_BIT` (4.15 name): the user PCID is the kernel PCID with bit 11 set. */
export const PTI_USER_PCID_BIT = 11;

const CTX_ID: readonly PcpuField[] = ['ctx_id0', 'ctx_id1', 'ctx_id2'];
const CTX_GEN: readonly PcpuField[] = ['ctx_gen0', 'ctx_gen1', 'ctx_gen2'];
export const ctxIdField = (asid: number): PcpuField => CTX_ID[asid]!;
export const ctxGenField = (asid: number): PcpuField => CTX_GEN[asid]!;

/** `kern_pcid(asid)`: PCID 0 stays for PCID-unaware code. 0 without PCID (`build_cr3`). */
export const kernPcid = (k: K<unknown>, asid: number): number => (k.features.pcid ? asid + 1 : 0);
export const userPcid = (k: K<unknown>, asid: number): number => kernPcid(k, asid) | (1 << PTI_USER_PCID_BIT);

/**
 * `invalidate_user_asid(asid)`: mark the user PCID of `asid` for a flush at the next
 * `SWITCH_TO_USER_CR3`. A non-atomic `__set_bit` on a per-CPU word: every caller runs with
 * IRQs off on this CPU, and only this CPU's exit path reads it.
 */
export function* invalidate_user_asid(k: K<unknown>, asid: number): Routine {
  if (!k.features.pcid || !k.features.pti) return;
  const loc = k.L.pcpu(k.cpu, 'user_pcid_flush_mask');
  const m = yield* load(loc);
  yield* store(loc, m | (1 << kernPcid(k, asid)), '__set_bit(kern_pcid(asid), user_pcid_flush_mask)');
}

/** `invalidate_other_asid()`: every ASID but the loaded one is flushed before its next use. */
export function* invalidate_other_asid(k: K<unknown>): Routine {
  yield* store(k.L.pcpu(k.cpu, 'invalidate_other'), 1, 'invalidate_other = true');
}

/** `clear_asid_other()` (tlb.c): forget every other cached ASID (ctx_id 0 names no mm). */
function* clear_asid_other(k: K<unknown>): Routine {
  yield* call(
    'clear_asid_other',
    (function* () {
      const cur = yield* load(k.L.pcpu(k.cpu, 'loaded_mm_asid'));
      for (let asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
        if (asid === cur) continue; // the current one was kept up to date by the flush
        yield* store(k.L.pcpu(k.cpu, ctxIdField(asid)), 0, 'ctxs[asid].ctx_id = 0: flush on next use');
      }
      yield* store(k.L.pcpu(k.cpu, 'invalidate_other'), 0);
    })(),
  );
}

/** `choose_new_asid(next, next_tlb_gen, &new_asid, &need_flush)` (tlb.c, 4.15). */
export function* choose_new_asid(k: K<CoreRoutines>, next: MmId, nextTlbGen: number): Routine<{ asid: number; needFlush: boolean }> {
  if (!k.features.pcid) return { asid: 0, needFlush: true };
  const L = k.L;
  if ((yield* load(L.pcpu(k.cpu, 'invalidate_other'))) !== 0) yield* clear_asid_other(k);
  const ctx = L.mm(next).ctxId;
  for (let asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
    if ((yield* load(L.pcpu(k.cpu, ctxIdField(asid)))) !== ctx) continue;
    const gen = yield* load(L.pcpu(k.cpu, ctxGenField(asid)));
    return { asid, needFlush: gen < nextTlbGen };
  }
  // this_cpu_add_return(next_asid, 1) - 1: round robin.
  let asid = yield* load(L.pcpu(k.cpu, 'next_asid'));
  yield* store(L.pcpu(k.cpu, 'next_asid'), asid + 1);
  if (asid >= TLB_NR_DYN_ASIDS) {
    asid = 0;
    yield* store(L.pcpu(k.cpu, 'next_asid'), 1);
  }
  return { asid, needFlush: true };
}

/**
 * `load_new_mm_cr3(pgdir, new_asid, need_flush)` (tlb.c, 4.15).
 *
 * Ordering:
 * 1. `write_cr3` is serializing: callers rely on it to order TLB fills after their
 *    mm_cpumask writes (pairs with flush_tlb_mm_range's LOCK XADD of tlb_gen).
 * 2. A flushing load also marks the user PCID (`invalidate_user_asid`), flushed on the
 *    next exit to user (entry.ts SWITCH_TO_USER_CR3 (1)).
 */
export function* load_new_mm_cr3(k: K<CoreRoutines>, mm: MmId, asid: number, needFlush: boolean): Routine {
  const pgd = k.L.mm(mm).pgd;
  if (needFlush) {
    yield* invalidate_user_asid(k, asid); // (2)
    yield* writeCr3(pgd, kernPcid(k, asid), false, 'write_cr3(build_cr3(pgd, asid)) (1)');
  } else {
    yield* writeCr3(pgd, kernPcid(k, asid), true, 'write_cr3(build_cr3_noflush(pgd, asid)) (1)');
  }
}
