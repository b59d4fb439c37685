/**
 * `no-use-after-free-page`: no access goes through a translation to a data page that was
 * freed, or freed and handed out again, after the translation was filled.
 *
 * Encodes the rule every zap path of mm/ (munmap, MADV_DONTNEED, mremap, khugepaged, reclaim)
 * follows through mmu_gather (mm/mmu_gather.c): a page unmapped from user space goes back to
 * the allocator only after the TLB flush that removes every translation to it has returned
 * (`tlb_flush_mmu`: `tlb_flush_mmu_tlbonly` before `tlb_batch_pages_flush`). A stale
 * translation that outlives the free lets user space read or write a page that now belongs to
 * someone else: the use-after-free that makes a TLB-flush bug a security bug (e.g.
 * CVE-2018-18281).
 *
 * Judged by ghost page generations: the machine bumps a page's generation when it is freed and
 * when it is reused, and each TLB entry records the generation of its page when it was filled.
 * A use through an entry whose page is free, or whose generation moved since the fill, breaks it.
 *
 * Holds: at every access, user or kernel, on every CPU. Stale translations to a page that is
 * still allocated (not yet freed) are not this invariant's business (no-stale-tlb-use).
 */
import type { Observation } from '../machine/machine.ts';
import { PageKind, hex } from '../machine/types.ts';
import type { Invariant, Violation } from './types.ts';

export const noUseAfterFreePage: Invariant = {
  id: 'no-use-after-free-page',
  title: 'no access goes through a translation to a data page that was freed or reused after the translation was filled',
  encodes: 'mmu_gather: pages are freed only after the TLB flush that covers them (mm/mmu_gather.c tlb_flush_mmu)',
  scope: 'every access through a TLB entry, on every CPU; a stale entry to a page still allocated is left to no-stale-tlb-use',
  observes: ['use'],
  check: (o, cx) => (o.o === 'use' ? checkFreedPageUse(o, cx.m.pageKind, cx.m.pageGen, cx.step, cx.mmName) : undefined),
};

export function checkFreedPageUse(
  o: Extract<Observation, { o: 'use' }>,
  pageKind: ArrayLike<number>,
  pageGen: ArrayLike<number>,
  step: number,
  mmName: (mm: number) => string,
): Violation | undefined {
  const e = o.entry;
  const kind = pageKind[e.pfn];
  const gen = pageGen[e.pfn];
  if (kind === undefined || gen === undefined) return undefined;
  const free = kind === PageKind.Free;
  if (!free && gen === e.gen) return undefined;
  const now = free ? 'free' : 'reused';
  return {
    invariant: noUseAfterFreePage.id,
    cpu: o.cpu,
    step,
    filledAt: e.rec.step,
    mm: o.mm,
    va: o.va,
    pfn: e.pfn,
    message:
      `cpu${o.cpu} access of va ${hex(o.va)} in ${mmName(o.mm)} reached pfn ${e.pfn} through a TLB entry filled at step ` +
      `${e.rec.step}, but the page has since been ${now === 'free' ? 'freed' : 'freed and reused'}`,
  };
}
