/**
 * Boot-time CPU state for the generations without PCID (4.12, 4.13): what the kernel's
 * variables and the hardware look like when a CPU is already running `start.mm` in user
 * mode, lazily from a kernel thread, or idle on init_mm.
 */
import type { CpuId } from '../../machine/types.ts';
import { INIT_MM, NO_MM, TLBSTATE_LAZY, TLBSTATE_OK, type PcpuField } from '../layout.ts';
import type { CpuStart, SetupCtx } from '../variant.ts';

export function initCpuNoPcid(s: SetupCtx, cpu: CpuId, start: CpuStart, loadedField: PcpuField): void {
  const L = s.L;
  const mm = start.mode === 'idle' ? INIT_MM : start.mm;
  s.poke(L.pcpu(cpu, loadedField), mm);
  s.poke(L.pcpu(cpu, 'state'), start.mode === 'lazy' ? TLBSTATE_LAZY : TLBSTATE_OK);
  s.poke(L.pcpu(cpu, 'cur_mm'), start.mode === 'user' ? mm : NO_MM);
  s.poke(L.pcpu(cpu, 'cur_active_mm'), mm);
  s.poke(L.cpumask(mm), s.peek(L.cpumask(mm)) | (1 << cpu));
  const root = L.mm(mm).pgd;
  s.setCr3(cpu, root, 0);
  for (const va of start.cached) s.prefill(cpu, root, 0, va);
  s.setIrq(cpu, true);
}
