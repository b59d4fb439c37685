/**
 * `no-stale-tlb-use`: once a flush covering a changed PTE of mm M has returned to its caller,
 * no CPU translates that address for M through an entry older than the change.
 *
 * Encodes the contract of `flush_tlb_mm_range()` in arch/x86/mm/tlb.c: when it returns, every
 * CPU that might use M's translations has dropped the old ones. "Older than the change" is
 * judged by the ghost fill record of the entry: the write ids of the upper and leaf entries the
 * walk read, against the writes the flusher had made (in program order, buffered or not) when
 * the flush began. Checked at user accesses, the only uses that matter to user code.
 *
 * An entry that was filled from another mm's page tables (a non-global entry whose upper
 * entry is not in one of M's roots) is stale for M by definition: the switch to M is the
 * change, and the CR3 write or the deferred user-PCID flush is the flush (KAISER/PTI, seed 000, docs/seeds.md).
 *
 * Holds: from the flush's return on. Deliberately not before it, and not for entries that sit
 * unused in a lazy CPU's TLB or an unloaded ASID: those are caught up by the kernel later.
 */
import type { Observation } from '../machine/machine.ts';
import { ENTRIES, hex } from '../machine/types.ts';
import type { Ghost } from './ghost.ts';
import type { Invariant, Violation } from './types.ts';

export const noStaleTlbUse: Invariant = {
  id: 'no-stale-tlb-use',
  title: 'once a flush covering a changed PTE has returned, no user access of that mm goes through an entry older than the change',
  encodes: 'flush_tlb_mm_range(): on return, no CPU may still use the old translation (arch/x86/mm/tlb.c)',
  scope: 'user accesses after the flush returned; stale entries that are never used (lazy CPUs, unloaded ASIDs) are allowed',
  observes: ['use'],
  check: (o, cx) => (o.o === 'use' ? checkStaleUse(o, cx.ghost, cx.step, cx.mmName, cx.isRootOf) : undefined),
};

export function checkStaleUse(
  o: Extract<Observation, { o: 'use' }>,
  ghost: Ghost,
  step: number,
  mmName: (mm: number) => string,
  /** Whether `pfn` is a root (pgd or user pgd) of mm `mm`. */
  isRootOf: (mm: number, pfn: number) => boolean = () => true,
): Violation | undefined {
  const e = o.entry;
  if (!e.global && !isRootOf(o.mm, Math.floor(e.rec.upperLoc / ENTRIES))) {
    return {
      invariant: noStaleTlbUse.id,
      cpu: o.cpu,
      step,
      filledAt: e.rec.step,
      mm: o.mm,
      va: o.va,
      message:
        `cpu${o.cpu} access of va ${hex(o.va)} in ${mmName(o.mm)} used pfn ${e.pfn} from a TLB entry (pcid ${e.pcid}) ` +
        `filled at step ${e.rec.step} from another mm's page tables`,
    };
  }
  for (const f of ghost.flushes) {
    if (f.returnedAt < 0 || f.kernel || f.mm !== o.mm || o.va < f.start || o.va >= f.end) continue;
    for (const c of f.covered) {
      if (c.va !== o.va) continue;
      const staleUpper = e.rec.upperLoc === c.upperLoc && e.rec.upperWid < c.upperWid;
      const staleLeaf = c.leafLoc !== undefined && e.rec.leafLoc === c.leafLoc && e.rec.leafWid < (c.leafWid ?? 0);
      if (staleUpper || staleLeaf) {
        return {
          invariant: noStaleTlbUse.id,
          cpu: o.cpu,
          step,
          filledAt: e.rec.step,
          mm: o.mm,
          va: o.va,
          by: f.cpu,
          returnedAt: f.returnedAt,
          message:
            `cpu${o.cpu} user access of va ${hex(o.va)} in ${mmName(o.mm)} used pfn ${e.pfn} from a TLB entry ` +
            `filled at step ${e.rec.step}, older than the change that cpu${f.cpu}'s flush (returned at step ` +
            `${f.returnedAt}) covered`,
        };
      }
    }
  }
  return undefined;
}
