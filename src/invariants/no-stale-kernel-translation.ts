/**
 * `no-stale-kernel-translation`: after a kernel-range flush returns, no CPU uses the old
 * kernel translation in any PCID it can still switch to without a flush.
 *
 * Encodes the contract of `flush_tlb_kernel_range()` (arch/x86/mm/tlb.c) and seed 001 (docs/seeds.md): with
 * PCID on and kernel mappings non-global (PTI), an INVLPG reaches only the current PCID, so
 * `__flush_tlb_one_kernel()` must also mark every other cached ASID (`invalidate_other`) for
 * a full flush before it is used again ("a potential corruption issue" otherwise).
 *
 * Use-based, like no-stale-tlb-use: judged at each access of a covered kernel address after
 * the flush returned, whatever PCID the CPU switched to since. An access goes through the
 * current PCID, so a stale entry in a PCID the CPU can switch to without a flush shows up as
 * soon as it does switch and touches the address. Entries that are never used again, and
 * PCIDs that will be flushed before use, are deliberately allowed.
 */
import type { Observation } from '../machine/machine.ts';
import { hex } from '../machine/types.ts';
import type { Ghost } from './ghost.ts';
import type { Invariant, Violation } from './types.ts';

export const noStaleKernelTranslation: Invariant = {
  id: 'no-stale-kernel-translation',
  title: 'after a kernel-range flush returns, no CPU uses the old kernel translation in any PCID',
  encodes: 'flush_tlb_kernel_range() / __flush_tlb_one_kernel(): invalidate_other for the non-current ASIDs (seed 001)',
  scope: 'accesses of covered kernel addresses after the flush returned, in any PCID; unused stale entries are allowed',
  observes: ['use'],
  check: (o, cx) => (o.o === 'use' ? checkStaleKernelUse(o, cx.ghost, cx.step) : undefined),
};

export function checkStaleKernelUse(o: Extract<Observation, { o: 'use' }>, ghost: Ghost, step: number): Violation | undefined {
  const e = o.entry;
  for (const f of ghost.flushes) {
    if (f.returnedAt < 0 || !f.kernel || o.va < f.start || o.va >= f.end) continue;
    for (const c of f.covered) {
      if (c.va !== o.va || c.leafLoc === undefined) continue;
      if (e.rec.leafLoc === c.leafLoc && e.rec.leafWid < (c.leafWid ?? 0)) {
        return {
          invariant: noStaleKernelTranslation.id,
          cpu: o.cpu,
          step,
          filledAt: e.rec.step,
          mm: f.mm,
          va: o.va,
          by: f.cpu,
          returnedAt: f.returnedAt,
          message:
            `cpu${o.cpu} access of kernel va ${hex(o.va)} used pfn ${e.pfn} from a TLB entry in pcid ${e.pcid} ` +
            `filled at step ${e.rec.step}, older than the change that cpu${f.cpu}'s kernel-range flush ` +
            `(returned at step ${f.returnedAt}) covered`,
        };
      }
    }
  }
  return undefined;
}
