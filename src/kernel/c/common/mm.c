/*
 * Shared mm helpers, linked before every base generation's tlb.c, so that any variant file
 * that defines a function of the same name replaces it (a base may too).
 *
 * free_pgtables(): the table-freeing part of unmap_region() (mm/mmap.c) -> free_pgtables() ->
 * free_pgd_range() -> ... -> free_pte_range() (mm/memory.c), with the mmu_gather around it
 * (mm/mmu_gather.c: tlb_gather_mmu, pte_free_tlb, tlb_finish_mmu). Our own text in the
 * kernel's shape.
 *
 * Simplified, and why that is safe:
 * - One leaf table under one upper entry: the scenarios free exactly one table; the walk down
 *   to it (pgd/p4d/pud levels) reads entries only this CPU changes under mmap_lock.
 * - The gather is not a data structure here: pte_free_tlb() batches the table page, and on
 *   x86 without paravirt the batch is freed only after tlb_flush_mmu_tlbonly()'s flush, which
 *   is the order below (tlb_flush() -> flush_tlb_mm_range() with freed_tables, as
 *   asm/tlb.h's tlb_flush() passes it from 4.20 on; older generations take no such argument).
 * - The page allocator handing the freed page out again at once (tlbcheck_reuse_page) is the
 *   scenario's worst case, not kernel code.
 *
 * How the generations free the table, and why this one text serves 4.12-6.18 for the
 * hardware walkers (the only walkers of the scenarios that use it):
 * - 4.12, 4.13: x86 ___pte_free_tlb() -> tlb_remove_page(): the table is freed with the
 *   gathered pages, after tlb_flush_mmu()'s flush. The order below.
 * - 4.14-4.18 with PARAVIRT (9e52fc2b50de selected HAVE_RCU_TABLE_FREE): tlb_remove_table(),
 *   freed by call_rcu_sched() after the same flush; the grace period only matters to software
 *   walkers (GUP-fast), so the order below stands. Until a6f572084fbe it also freed the table
 *   at once, before any flush, when mm_users < 2: linux-4.14-table-free-single-user.
 * - 4.19-6.14 bare metal: tlb_remove_page() again ("x86/mm: Only use tlb_remove_table() for
 *   paravirt"), with freed_tables from 4.20 (flush_tlb_mm_range()'s argument).
 * - 6.15+: RCU table freeing on bare metal too (a37259732a7d); mm/mmu_gather.c models it for
 *   the mm side's entry points (gup-fast-vs-free-table), whose GUP-fast walker needs it.
 */

void free_pgtables(struct mm_struct *mm, pmd_t *pmd, unsigned long table,
		   unsigned long start, unsigned long end, unsigned long reuse)
{
	pmd_clear(pmd);				/* pmd_clear */
	tlb_flush_range(mm, start, end, true);
	free_page(table);			/* tlb_flush_mmu_free: free the table page */
	tlbcheck_reuse_page(table, reuse);	/* page reused */
}
