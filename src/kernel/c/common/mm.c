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
 */

void free_pgtables(struct mm_struct *mm, pmd_t *pmd, unsigned long table,
		   unsigned long start, unsigned long end, unsigned long reuse)
{
	pmd_clear(pmd);				/* pmd_clear */
	tlb_flush_range(mm, start, end, true);
	free_page(table);			/* tlb_flush_mmu_free: free the table page */
	tlbcheck_reuse_page(table, reuse);	/* page reused */
}
