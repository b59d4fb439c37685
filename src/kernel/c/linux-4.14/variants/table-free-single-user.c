/* tlbcheck: base=linux-4.14 id=linux-4.14-table-free-single-user kind=bug fixed-by=linux-4.14
 *   title="tlb_remove_table() frees a page table at once when the mm has fewer than two users: a lazy CPU walks the freed table"
 *   source="mm/memory.c tlb_remove_table() with HAVE_RCU_TABLE_FREE (x86 with PARAVIRT since 9e52fc2b50de, v4.14) before a6f572084fbe ('mm/tlb: Remove tlb_remove_table() non-concurrent condition', v4.19, Cc stable; Fixes: 267239116987)"
 *   mm-fields=mm_users
 *   expect=lazy-free-pgtables:2:violated:no-walk-through-freed-table,lazy-free-pgtables:3:violated:no-walk-through-freed-table
 */
/*
 * From 4.14 to 4.18, an x86 kernel built with PARAVIRT (HAVE_RCU_TABLE_FREE, 9e52fc2b50de)
 * freed page tables through tlb_remove_table(), even on bare metal: ___pte_free_tlb() ->
 * tlb_remove_table(tlb, pte). Its first lines took a shortcut: "fewer than two users of the mm,
 * so no concurrent page-table walk", and freed the table at once, before the gather's flush.
 * A lazy CPU (a kernel thread that borrowed the mm: it holds mm_count, not mm_users) still has
 * the mm's CR3 loaded and the upper entry in its paging-structure cache; its speculative walk
 * reads the freed, reused table. Will Deacon noted that mm_users misses such CPUs; the check was
 * removed (a6f572084fbe, part of the Aug 2018 TLB fixes after seed 003).
 *
 * mm->mm_users is a field this variant adds (mm-fields=): 0 at boot, that is "fewer than two",
 * as in lazy-free-pgtables, where only kernel threads run on the mm while it is unmapped
 * (atomic_read() is a plain load on x86). The rest is common/mm.c's free_pgtables(): the
 * mmu_gather's flush, then the free (tlb_flush_mmu: flush, then tlb_table_flush's
 * call_rcu_sched; the grace period is not modelled: no software walker runs here).
 */
void free_pgtables(struct mm_struct *mm, pmd_t *pmd, unsigned long table,
		   unsigned long start, unsigned long end, unsigned long reuse)
{
	pmd_clear(pmd);
	/* pte_free_tlb() -> ___pte_free_tlb() -> tlb_remove_table(tlb, table): */
	if (READ_ONCE(mm->mm_users) < 2) {
		free_page(table);			/* the bug: __tlb_remove_table() now */
		tlbcheck_reuse_page(table, reuse);	/* page reused */
		tlb_flush_range(mm, start, end, true);	/* tlb_finish_mmu(): too late */
		return;
	}
	tlb_flush_range(mm, start, end, true);
	free_page(table);
	tlbcheck_reuse_page(table, reuse);
}
