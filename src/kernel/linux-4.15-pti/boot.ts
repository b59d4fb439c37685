/**
 * Boot-time CPU state for Linux 4.15 PTI: ASID slot 0 holds the running mm, further slots the
 * `others` of the start state, each up to date with its mm's `tlb_gen` (0 at boot). A CPU that
 * was in user mode also has its user translations cached in the user PCID.
 */
import type { CpuId } from '../../machine/types.ts';
import { INIT_MM, NO_MM } from '../layout.ts';
import type { CpuStart, SetupCtx } from '../variant.ts';
import { ctxGenField, ctxIdField, PTI_USER_PCID_BIT } from './pcid.ts';

export function initCpuPti(s: SetupCtx, cpu: CpuId, start: CpuStart): void {
  const L = s.L;
  const pcid = s.features.pcid;
  // With PCID, enter_lazy_tlb switched a lazy CPU to init_mm at once: its mm stays cached in
  // an ASID slot, out of the cpumask. Without PCID it stays loaded with `is_lazy` set.
  const lazyPcid = start.mode === 'lazy' && pcid;
  const mm = start.mode === 'idle' || lazyPcid ? INIT_MM : start.mm;
  const slots = [
    { mm, cached: lazyPcid ? [] : start.cached, inMask: mm !== INIT_MM },
    ...(lazyPcid ? [{ mm: start.mm, cached: start.cached, inMask: false }] : []),
    ...(start.others ?? []),
  ];
  slots.forEach((slot, asid) => {
    s.poke(L.pcpu(cpu, ctxIdField(asid)), L.mm(slot.mm).ctxId);
    s.poke(L.pcpu(cpu, ctxGenField(asid)), 0);
    if (slot.inMask) s.poke(L.cpumask(slot.mm), s.peek(L.cpumask(slot.mm)) | (1 << cpu));
    if (!pcid && asid > 0) return;
    const kp = pcid ? asid + 1 : 0;
    const info = L.mm(slot.mm);
    for (const va of slot.cached) {
      s.prefill(cpu, info.pgd, kp, va);
      if (pcid && s.features.pti) s.prefill(cpu, info.userPgd ?? info.pgd, kp | (1 << PTI_USER_PCID_BIT), va);
    }
  });
  s.poke(L.pcpu(cpu, 'loaded_mm'), mm);
  s.poke(L.pcpu(cpu, 'loaded_mm_asid'), 0);
  s.poke(L.pcpu(cpu, 'next_asid'), pcid ? slots.length : 1);
  s.poke(L.pcpu(cpu, 'is_lazy'), start.mode === 'lazy' && !pcid ? 1 : 0);
  s.poke(L.pcpu(cpu, 'cur_mm'), start.mode === 'user' ? mm : NO_MM);
  s.poke(L.pcpu(cpu, 'cur_active_mm'), mm);
  s.setCr3(cpu, L.mm(mm).pgd, pcid ? 1 : 0);
  s.setIrq(cpu, true);
}
