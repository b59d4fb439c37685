/*
 * mremap's page-table move of Linux v6.18 mm/mremap.c (move_ptes, move_page_tables), for
 * the model's two-level tables. Written for tlbcheck in the kernel's shape and names; the
 * comments are ours. Linked into linux-6.18 after mm/memory.c.
 *
 * The rule since eb66ae030829 ("mremap: properly flush TLB before releasing the page",
 * v4.20, CVE-2018-18281): when a present PTE moves, the TLB of the old range is flushed
 * before the page-table locks are dropped. A concurrent truncate (unmap_mapping_range, which
 * does not take the mmap_lock that mremap holds for write) may zap the new PTE as soon as
 * the lock is free and free the page after flushing only the new address.
 *
 * Simplifications, each safe for the modelled scenario:
 * - No vm_area_struct: `vma` stands for its mm (flush_tlb_range(vma, ...) flushes the mm).
 * - One PTE at a time (6.18 batches the PTEs of a large folio: mremap_folio_pte_batch); no
 *   soft-dirty, uffd-wp or rmap locks; move_pte is the identity on x86.
 * - pte_offset_map() and pte_lockptr() for the new table, as before 6.12's
 *   pte_offset_map_rw_nolock(): mremap holds the mmap_lock for write, so the new table is
 *   stable (the 6.18 comment says the same).
 * - The old and new range lie in tables the scenario already has (no alloc_new_pmd, no
 *   move_normal_pmd fast path).
 */

#define flush_tlb_range(vma, start, end)	flush_tlb_mm_range(vma, start, end, PAGE_SHIFT, false)

static inline void pte_unmap(pte_t *pte)
{
}

static int move_ptes(struct mm_struct *vma, pmd_t *old_pmd,
		     unsigned long old_addr, unsigned long old_end,
		     pmd_t *new_pmd, unsigned long new_addr)
{
	struct mm_struct *mm = vma;
	pte_t *old_ptep;
	pte_t *new_ptep;
	pte_t old_pte;
	pte_t pte;
	spinlock_t *old_ptl;
	spinlock_t *new_ptl;
	bool force_flush = false;
	unsigned long len = old_end - old_addr;

	old_ptep = pte_offset_map_lock(mm, old_pmd, old_addr, &old_ptl);
	if (!old_ptep)
		return -1;
	new_ptep = pte_offset_map(new_pmd, new_addr);
	new_ptl = pte_lockptr(mm, new_pmd);
	if (new_ptl != old_ptl)
		spin_lock_nested(new_ptl, SINGLE_DEPTH_NESTING);
	flush_tlb_batched_pending(vma);

	for (; old_addr < old_end; old_ptep++, old_addr += PAGE_SIZE,
				   new_ptep++, new_addr += PAGE_SIZE) {
		old_pte = ptep_get(old_ptep);
		if (pte_none(old_pte))
			continue;

		/*
		 * A present PTE moves: the old translation must be flushed before either lock
		 * is dropped. The new lock keeps a truncate from zapping the new PTE (and
		 * freeing the page) while a CPU still has the old translation.
		 */
		if (pte_present(old_pte))
			force_flush = true;
		pte = ptep_get_and_clear(mm, old_addr, old_ptep);
		set_pte_at(mm, new_addr, new_ptep, pte);
	}

	if (force_flush)
		flush_tlb_range(vma, old_end - len, old_end);	/* before the locks go */
	if (new_ptl != old_ptl)
		spin_unlock(new_ptl);
	pte_unmap(new_ptep - 1);
	pte_unmap_unlock(old_ptep - 1, old_ptl);
	return 0;
}

/* move_page_tables(): the range PMD by PMD (here: upper entry by upper entry). */
unsigned long move_page_tables(struct mm_struct *vma, unsigned long old_addr,
			       unsigned long new_addr, unsigned long len)
{
	unsigned long old_end = old_addr + len;
	unsigned long extent;
	unsigned long next;

	for (; old_addr < old_end; old_addr += extent, new_addr += extent) {
		next = pmd_addr_end(old_addr, old_end);
		extent = next - old_addr;
		if (extent > pmd_addr_end(new_addr, new_addr + extent) - new_addr)
			extent = pmd_addr_end(new_addr, new_addr + extent) - new_addr;
		move_ptes(vma, pmd_off(vma, old_addr), old_addr, old_addr + extent,
			  pmd_off(vma, new_addr), new_addr);
	}
	return len;
}

/* The page-table part of mremap(MREMAP_MAYMOVE | MREMAP_FIXED): move [start, end) to new_addr. */
long mremap_move(struct mm_struct *mm, unsigned long start, unsigned long end,
		 unsigned long new_addr)
{
	move_page_tables(mm, start, new_addr, end - start);
	return 0;
}
