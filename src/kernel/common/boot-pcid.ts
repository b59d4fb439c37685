/**
 * Boot-time CPU state for the PCID generations (4.14, 4.20, 6.x): the loaded mm in an ASID
 * slot, other mms' ASID slots still holding their cached translations (`CpuStart.others`),
 * `loaded_mm_asid`, `next_asid`, `is_lazy` and the mm_cpumask bits.
 *
 * Slots: the `others` fill slots 0.., the loaded mm takes the next one, and `next_asid` points
 * after it (where the round-robin would be after handing those slots out in that order).
 * Every slot starts at `tlb_gen` 0, like every mm. Without PCID there is one ASID and a CR3
 * write flushes it, so `others` are dropped.
 */
import type { CpuId, MmId } from '../../machine/types.ts';
import { INIT_MM, NO_MM, mmAddress } from '../layout.ts';
import type { CpuStart, SetupCtx } from '../variant.ts';
import { NR_DYN_ASIDS, ctxGenField, ctxIdField, kernPcid } from './asid.ts';

export interface PcidBootOpts {
  /** The generation leaves a CPU's bit set in the cpumask of an mm it switched away from (6.x lazy cpumask). */
  readonly othersKeepBit: boolean;
  /** init_mm's cpumask gets the bit of a CPU on init_mm (4.14 sets it; 4.20+ skips init_mm). */
  readonly initMmBit: boolean;
  /** The slots name their owner by the mm's address, not its ctx_id (a bug variant's kernel). */
  readonly ownerByAddress?: boolean;
}

export function initCpuPcid(s: SetupCtx, cpu: CpuId, start: CpuStart, o: PcidBootOpts): void {
  const L = s.L;
  const pcid = s.features.pcid;
  const mm = start.mode === 'idle' ? INIT_MM : start.mm;
  const others = pcid ? (start.others ?? []) : [];
  const owner = (m: MmId): number => (o.ownerByAddress ? mmAddress(m) : L.mm(m).ctxId);
  if (others.length + 1 > NR_DYN_ASIDS) throw new Error(`[tlbcheck bug] more start mms than ${NR_DYN_ASIDS} ASID slots`);
  others.forEach((x, asid) => {
    s.poke(L.pcpu(cpu, ctxIdField(asid)), owner(x.mm));
    s.poke(L.pcpu(cpu, ctxGenField(asid)), 0);
    for (const va of x.cached) s.prefill(cpu, L.mm(x.mm).pgd, kernPcid(true, asid), va);
    if (x.inMask && o.othersKeepBit) s.poke(L.cpumask(x.mm), s.peek(L.cpumask(x.mm)) | (1 << cpu));
  });
  const dyn = others.length;
  s.poke(L.pcpu(cpu, ctxIdField(dyn)), owner(mm));
  s.poke(L.pcpu(cpu, ctxGenField(dyn)), 0);
  // INVLPGB (6.15+): the mm's global ASID, and whether this CPU runs it there already.
  const g = pcid && s.features.invlpgb === true && mm !== INIT_MM ? start.globalAsid : undefined;
  if (g) {
    if (g.asid < NR_DYN_ASIDS) throw new Error(`[tlbcheck bug] global ASID ${g.asid} inside the dynamic range`);
    s.poke(L.mmField(mm, 'global_asid'), g.asid);
    if (!g.onGlobal) s.poke(L.mmField(mm, 'asid_transition'), 1);
  }
  const asid = g?.onGlobal ? g.asid : dyn;
  s.poke(L.pcpu(cpu, 'loaded_mm'), mm);
  s.poke(L.pcpu(cpu, 'loaded_mm_asid'), asid);
  s.poke(L.pcpu(cpu, 'next_asid'), pcid ? (dyn + 1) % NR_DYN_ASIDS : 0);
  s.poke(L.pcpu(cpu, 'is_lazy'), start.mode === 'lazy' ? 1 : 0);
  s.poke(L.pcpu(cpu, 'cur_mm'), start.mode === 'user' ? mm : NO_MM);
  s.poke(L.pcpu(cpu, 'cur_active_mm'), mm);
  if (mm !== INIT_MM || o.initMmBit) s.poke(L.cpumask(mm), s.peek(L.cpumask(mm)) | (1 << cpu));
  const root = L.mm(mm).pgd;
  s.setCr3(cpu, root, kernPcid(pcid, asid));
  for (const va of start.cached) s.prefill(cpu, root, kernPcid(pcid, asid), va);
  s.setIrq(cpu, true);
}
