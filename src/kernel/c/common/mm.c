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

/*
 * exit_mmap() (mm/mmap.c) as the generations before the mm side have it (v4.12-v4.20): the
 * last mmput() of an mm tears its address space down under one mmu_gather with fullmm set
 * (mm/memory.c tlb_gather_mmu(&tlb, mm, 0, -1)): unmap_vmas() clears every PTE and batches
 * the pages, free_pgtables() unlinks the page tables and batches them, and tlb_finish_mmu()
 * flushes the whole mm (asm/tlb.h tlb_flush(): fullmm is flush_tlb_mm_range(mm, 0,
 * TLB_FLUSH_ALL)) before the batch is freed. linux-6.18 replaces this with the mm side's own
 * (src/kernel/c/mm/mmap.c).
 *
 * Simplified, and why that is safe:
 * - One vma, [start, end), as the scenario gives it; its tables are the mm's only ones.
 * - The gather is two pages and one table (page0, page1, table0); a third is a BUG, so no
 *   scenario can get past it unnoticed. The kernel's batch is a list; the order is the same.
 * - No page-table lock: mm_users is 0, so no thread of the mm changes its PTEs any more, and
 *   the model has no rmap walker that would take the lock (4.x zap_pte_range takes it too).
 * - fullmm: ptep_get_and_clear_full() is a plain read and clear (native_local_ptep_get_and_clear).
 */
#ifndef PMD_SIZE
#define PMD_SIZE	(16 * PAGE_SIZE)	/* the model's upper level: 16 pages per table */
#endif

void exit_mmap(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	unsigned long addr;
	unsigned long page0 = 0;
	unsigned long page1 = 0;
	unsigned long table0 = 0;
	pmd_t *pmd;
	pte_t *pte;
	pte_t ptent;
	pmd_t pmdval;

	/* unmap_vmas() -> zap_pte_range(): clear the vma's PTEs, batch their pages (no flush yet) */
	for (addr = start; addr < end; addr += PAGE_SIZE) {
		pmd = pmd_off(mm, addr);
		pte = pte_offset_map(pmd, addr);
		if (!pte)
			continue;
		ptent = ptep_get_and_clear_full(mm, addr, pte, 1);
		if (!pte_present(ptent))
			continue;
		if (!page0) {
			page0 = vm_normal_page(NULL, addr, ptent);
		} else {
			BUG_ON(page1);
			page1 = vm_normal_page(NULL, addr, ptent);
		}
	}

	/* free_pgtables() -> free_pte_range(): unlink each table under the vma, batch it */
	for (addr = start / PMD_SIZE * PMD_SIZE; addr < end; addr += PMD_SIZE) {
		pmd = pmd_off(mm, addr);
		pmdval = pmdp_get(pmd);
		if (pmd_none(pmdval))
			continue;
		BUG_ON(table0);
		table0 = pmd_pgtable(pmdval);
		pmd_clear(pmd);
	}

	/* tlb_finish_mmu() -> tlb_flush_mmu(): flush the whole mm, then free the batch */
	tlb_flush_range(mm, 0, TLB_FLUSH_ALL, true);
	if (page0)
		free_page_and_swap_cache(page0);
	if (page1)
		free_page_and_swap_cache(page1);
	if (table0)
		tlb_remove_table_free(table0);
}
