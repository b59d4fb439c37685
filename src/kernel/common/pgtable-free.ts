/**
 * Scenario glue for two ways page tables are freed outside the munmap path: the callers of
 * the C routines under test, as free_pgtables (sched.ts) is for unmap_region.
 *
 * - `huge_vmap_free_pte_page`: ioremap_try_huge_pmd() / vmap_try_huge_pmd() (lib/ioremap.c,
 *   mm/vmalloc.c) call pmd_free_pte_page() (arch/x86/mm/pgtable.c, C in the variant) on a
 *   kernel pmd that points to a PTE page; the freed page goes back to the allocator, which may
 *   hand it out at once (here: reused with `reuseFill`). The huge entry installed afterwards is
 *   not modelled (no huge pages).
 * - `collapse_pte_mapped_thp` (mm/khugepaged.c): pmdp_collapse_flush() (mm/pgtable-generic.c)
 *   clears the pmd with pmdp_huge_get_and_clear() (XCHG on x86) and flushes its range with
 *   flush_tlb_range() (C in the variant); the PTE page is then freed by pte_free_defer()
 *   after an RCU grace period, which does not wait for hardware walkers, and reused. The huge
 *   pmd installed afterwards is not modelled: the pmd stays clear.
 */
import { UserError } from '../../errors.ts';
import type { Loc, MmId, Pfn } from '../../machine/types.ts';
import { type K, type Routine, call, freePage, reusePage, xchg } from '../fx.ts';
import type { CoreRoutines } from '../variant.ts';

export function* huge_vmap_free_pte_page(k: K<CoreRoutines>, pmd: Loc, addr: number, table: Pfn, reuseFill: number): Routine {
  const free = k.r.pmd_free_pte_page;
  if (!free) throw new UserError('scenario needs a variant with pmd_free_pte_page (e.g. linux-4.20)');
  yield* call(
    'ioremap_try_huge_pmd',
    (function* () {
      yield* free(k, pmd, addr);
      yield* reusePage(table, reuseFill, 'page reused');
    })(),
  );
}

export function* collapse_pte_mapped_thp(k: K<CoreRoutines>, mm: MmId, pmdp: Loc, table: Pfn, start: number, end: number, reuseFill: number): Routine {
  const flushRange = k.r.flush_tlb_range;
  if (!flushRange) throw new UserError('scenario needs a variant with flush_tlb_range (e.g. linux-6.18)');
  yield* call(
    'collapse_pte_mapped_thp',
    (function* () {
      yield* call(
        'pmdp_collapse_flush',
        (function* () {
          yield* xchg(pmdp, 0, 'pmdp_huge_get_and_clear');
          yield* flushRange(k, mm, start, end);
        })(),
      );
      yield* freePage(table, 'pte_free_defer: freed after the RCU grace period');
      yield* reusePage(table, reuseFill, 'page reused');
    })(),
  );
}
