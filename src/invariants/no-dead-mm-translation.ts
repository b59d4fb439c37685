/**
 * `no-dead-mm-translation`: no access goes through a TLB entry that was filled for an mm that
 * has since been freed: neither for the mm itself after its death, nor for a later mm
 * allocated at the same address (the pointer kernels compare) or running under the same ASID.
 *
 * Encodes what f39681ed0f48 ("x86/mm: Give each mm TLB flush generation a unique ID") made
 * the PCID code rely on: an ASID slot names its owner by `ctx_id`, which "uniquely identifies
 * the mm_struct and will never be reused", and a new mm's `tlb_gen` starts again at 0; an
 * mm_struct address does not identify an mm over time, since a freed mm's address is handed
 * out again. A slot kept because it matched a reused identity serves the dead mm's
 * translations to the new one.
 *
 * Judged by ghost mm generations: each mm slot (address) has a generation the machine bumps
 * when the mm there is freed and when a new one is allocated; each TLB entry records the
 * generation of the tree it was walked in. A use through an entry of another generation breaks
 * it. Global entries (the kernel's, shared by every mm) are not an mm's and are not judged.
 *
 * Holds: at every access through a TLB entry, on every CPU. Where mms never die (every
 * scenario without `fork` or a later mm) generations never move and it cannot break. Walks
 * through a dead mm's cached upper entries read a freed table and are
 * no-walk-through-freed-table's business.
 */
import type { Observation } from '../machine/machine.ts';
import { hex } from '../machine/types.ts';
import type { Invariant, Violation } from './types.ts';

export const noDeadMmTranslation: Invariant = {
  id: 'no-dead-mm-translation',
  title: 'no access goes through a TLB entry filled for an mm that has since been freed (or for an earlier mm at the same address)',
  encodes: 'f39681ed0f48: ctx_id never reused, tlb_gen from 0 for a new mm; ASID slots owned by ctx_id, not by mm address',
  scope: 'every access through a non-global TLB entry, on every CPU; cannot break where no mm is freed',
  observes: ['use'],
  check: (o, cx) => (o.o === 'use' ? checkDeadMmUse(o, cx.m.mmGen, cx.step, (mm, gen) => cx.layout.mmNameAt(mm, gen)) : undefined),
};

/** The check: the generation the entry was filled in against the generation of its mm slot now. */
export function checkDeadMmUse(
  o: Extract<Observation, { o: 'use' }>,
  mmGen: ArrayLike<number>,
  step: number,
  nameAt: (mm: number, gen: number) => string,
): Violation | undefined {
  const e = o.entry;
  if (e.global) return undefined;
  const now = mmGen[o.mm];
  if (now === undefined || now === e.mmGen) return undefined;
  const was = nameAt(o.mm, e.mmGen);
  const is = nameAt(o.mm, now);
  return {
    invariant: noDeadMmTranslation.id,
    cpu: o.cpu,
    step,
    filledAt: e.rec.step,
    mm: o.mm,
    va: o.va,
    pfn: e.pfn,
    message:
      `cpu${o.cpu} access of va ${hex(o.va)} in ${is} used pfn ${e.pfn} from a TLB entry (pcid ${e.pcid}) filled at step ${e.rec.step} for ${was}, ` +
      (is === was ? `which has since been freed` : `which has since been freed, and ${is} allocated at its address`),
  };
}
