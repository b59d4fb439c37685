/**
 * Dynamic ASIDs (4.14 and later): `cpu_tlbstate.ctxs[]`, `choose_new_asid`, the PCID a CR3
 * write carries, and `inc_mm_tlb_gen`. Shared by every PCID generation (4.14, 4.20, 6.x):
 * the code is the same in each (arch/x86/mm/tlb.c, arch/x86/include/asm/tlbflush.h).
 *
 * Simplification: `TLB_NR_DYN_ASIDS` is 6 in the kernel; the model has 2 slots. The slot
 * count only decides *when* the round-robin wraps, not what happens then: a slot is either
 * matched by `ctx_id` (flush iff its `tlb_gen` is behind) or reused round-robin (always
 * flushed). Two slots reach both cases with the fewest switches; scenarios that need reuse
 * rotate one mm more than there are slots.
 */
import type { MmId } from '../../machine/types.ts';
import { type K, type Routine, load, store, xadd } from '../fx.ts';
import type { Layout, PcpuField } from '../layout.ts';

/** Modelled `TLB_NR_DYN_ASIDS` (6 in the kernel; see the header). */
export const NR_DYN_ASIDS = 2;

const CTX_ID: readonly PcpuField[] = ['ctx_id0', 'ctx_id1', 'ctx_id2'];
const CTX_GEN: readonly PcpuField[] = ['ctx_gen0', 'ctx_gen1', 'ctx_gen2'];

export const ctxIdField = (asid: number): PcpuField => CTX_ID[asid] ?? fail(asid);
export const ctxGenField = (asid: number): PcpuField => CTX_GEN[asid] ?? fail(asid);

function fail(asid: number): never {
  throw new Error(`[tlbcheck bug] no ctxs[${asid}] in the layout`);
}

/**
 * `kern_pcid(asid)` = asid + 1 ("x86/mm/64: Stop using CR3.PCID == 0 in ASID-aware code",
 * an x86/urgent fix of the 4.14-rc cycle, from memory: the notes could not pin it to v4.14 or
 * 4.15). PCID 0 stays for code that is not ASID-aware. The choice does not change any verdict:
 * only distinctness of the PCIDs matters. Without PCID the CR3 PCID field must be 0.
 */
export function kernPcid(pcid: boolean, asid: number): number {
  return pcid ? asid + 1 : 0;
}

export interface NewAsid {
  readonly asid: number;
  readonly needFlush: boolean;
}

/**
 * `choose_new_asid(next, next_tlb_gen, &new_asid, &need_flush)` (arch/x86/mm/tlb.c, 4.14;
 * the same in 4.20 and, minus global ASIDs and `invalidate_other`, in 6.18).
 * Reads only this CPU's `cpu_tlbstate` (IRQs are off).
 * `opt.reuseNoFlush` / `opt.ignoreGen` are the bug variants' edits.
 */
export function chooseNewAsid(opt: { readonly reuseNoFlush?: boolean; readonly ignoreGen?: boolean } = {}) {
  return function* choose_new_asid(k: K<unknown>, next: MmId, nextTlbGen: number): Routine<NewAsid> {
    const L = k.L;
    if (!k.features.pcid) return { asid: 0, needFlush: true };
    const ctxId = L.mm(next).ctxId;
    for (let asid = 0; asid < NR_DYN_ASIDS; asid++) {
      if ((yield* load(L.pcpu(k.cpu, ctxIdField(asid)))) !== ctxId) continue;
      const gen = yield* load(L.pcpu(k.cpu, ctxGenField(asid)));
      // "need_flush = ctxs[asid].tlb_gen < next_tlb_gen": the slot missed flushes while unloaded.
      return { asid, needFlush: opt.ignoreGen ? false : gen < nextTlbGen };
    }
    // this_cpu_add_return(next_asid, 1) - 1, wrapping at TLB_NR_DYN_ASIDS.
    let asid = yield* load(L.pcpu(k.cpu, 'next_asid'));
    if (asid >= NR_DYN_ASIDS) asid = 0;
    yield* store(L.pcpu(k.cpu, 'next_asid'), asid + 1 >= NR_DYN_ASIDS ? 0 : asid + 1);
    if (opt.reuseNoFlush) {
      // The bug: claim the recycled slot for `next` as if it were current, so the caller
      // loads CR3 with NOFLUSH over the previous owner's entries.
      yield* store(L.pcpu(k.cpu, ctxIdField(asid)), ctxId);
      yield* store(L.pcpu(k.cpu, ctxGenField(asid)), nextTlbGen);
      return { asid, needFlush: false };
    }
    return { asid, needFlush: true };
  };
}

/**
 * `inc_mm_tlb_gen(mm)` (asm/tlbflush.h, 4.14): `atomic64_inc_return`, a LOCK XADD. "This is
 * also a barrier that synchronizes with switch_mm()": it orders the caller's PTE stores before
 * its reads of `mm_cpumask` / `loaded_mm` / `is_lazy`.
 */
export function* inc_mm_tlb_gen(L: Layout, mm: MmId, tag: string): Routine<number> {
  return (yield* xadd(L.tlbGen(mm), 1, tag)) + 1;
}
