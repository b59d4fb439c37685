/*
 * exit_mmap() of Linux v6.18 mm/mmap.c: the last mmput() of an mm tears its address space
 * down under one mmu_gather with fullmm set: unmap_vmas() zaps every PTE and batches the pages
 * (no flush while fullmm gathers), free_pgtables() unlinks every page table and batches it,
 * and tlb_finish_mmu() flushes the whole mm (arch/x86/include/asm/tlb.h tlb_flush(): fullmm is
 * flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, ..., freed_tables)) before it frees the batch.
 * Written for tlbcheck in the kernel's shape and names; the comments are ours. Linked into
 * linux-6.18 after mm/memory.c; it replaces the common exit_mmap() of src/kernel/c/common/mm.c.
 *
 * Simplified, and why that is safe:
 * - One vma, [start, end) (the mm's PMD-aligned span, as the scenario lays it out): the
 *   entry point takes the range instead of walking the maple tree, as the other mm entry
 *   points do. free_pgtables() gets it as floor and ceiling; there are no tables outside it.
 * - mmap_lock (taken for read, then for write around free_pgtables), MMF_OOM_SKIP, the vma
 *   removal, hugetlb and the rss/hiwater counters touch no state the model has.
 */
void exit_mmap(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct mmu_gather tlb;

	tlb_gather_mmu_fullmm(&tlb, mm);
	/* unmap_vmas(): the vma's PTEs cleared and their pages batched */
	unmap_page_range(&tlb, mm, start, end);
	/* free_pgtables(): every page table under the vma, batched (freed_tables) */
	free_pgd_range(&tlb, mm, start, end);
	/* tlb_finish_mmu(): the fullmm flush, then the batch goes back to the allocator */
	tlb_finish_mmu(&tlb);
}
