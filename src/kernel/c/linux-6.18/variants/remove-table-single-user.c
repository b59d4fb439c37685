/* tlbcheck: id=linux-6.18-remove-table-single-user kind=bug base=linux-6.18 fixed-by=linux-6.18
 *   title="tlb_remove_table() frees a page table at once when the mm has fewer than two users"
 *   source="mm/memory.c tlb_remove_table() before a6f572084fbe ('mm/tlb: Remove tlb_remove_table() non-concurrent condition', v4.19; Fixes: 267239116987), on the 6.18 mm side"
 *   expect=mm-reuse:1:violated:no-walk-through-freed-table,mm-reuse:2:violated:no-walk-through-freed-table
 */
/*
 * From 267239116987 ("mm, powerpc: move the RCU page-table freeing into generic code") until
 * the fix, the generic tlb_remove_table() of HAVE_RCU_TABLE_FREE kernels (x86 with paravirt)
 * freed a page table at once, without the batch and its TLB flush, when
 * atomic_read(&mm->mm_users) < 2: with no second user, it reasoned, nothing could be walking
 * the tables. Will Deacon noted that mm_users misses the CPUs that hold a lazy reference to
 * the mm (mm_count): a kernel thread borrowing it keeps CR3 on its tables and may walk them
 * speculatively. exit_mmap() is the case: mm_users is 0 there, while a CPU whose exiting
 * thread or idle thread borrows the mm still walks through its cached upper entries.
 *
 * The same test on the 6.18 mm side (src/kernel/c/mm/mmu_gather.c): the table goes back to the
 * allocator before tlb_finish_mmu()'s flush, which is what would have made the lazy CPU leave.
 */
void tlb_remove_table(struct mmu_gather *tlb, struct page *table)
{
	/* The bug: fewer than two users is taken to mean no concurrent page-table walk. */
	if (atomic_read(&tlb->mm->mm_users) < 2) {
		free_page_and_swap_cache(table);	/* __tlb_remove_table(): no flush first */
		return;
	}

	tlb->freed_tables = 1;
	tlb->table = table;
}
