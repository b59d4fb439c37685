/* tlbcheck: base=linux-6.18 id=linux-6.18-mremap-flush-after-unlock kind=bug fixed-by=linux-6.18
 *   title="mremap flushes the old range of a clean PTE only after dropping the page-table lock"
 *   source="CVE-2018-18281, fixed by eb66ae030829 ('mremap: properly flush TLB before releasing the page', v4.20): move_ptes/move_page_tables as before it (v4.19 mm/mremap.c)"
 *   expect=mremap-vs-truncate:2:violated:no-use-after-free-page
 */
/*
 * move_ptes() before eb66ae030829: it flushed under the lock only when the moved PTE was
 * dirty (against page_mkclean); for a clean one it asked move_page_tables() to flush the old
 * range at the end, after every page-table lock was dropped. In between, a truncate zaps the
 * new PTE, flushes only the new address and frees the page, while CPUs still translate the
 * old address to it: a use-after-free of the page (CVE-2018-18281).
 */
static int move_ptes(struct mm_struct *vma, pmd_t *old_pmd,
		     unsigned long old_addr, unsigned long old_end,
		     pmd_t *new_pmd, unsigned long new_addr, bool *need_flush)
{
	struct mm_struct *mm = vma;
	pte_t *old_ptep;
	pte_t *new_ptep;
	pte_t pte;
	spinlock_t *old_ptl;
	spinlock_t *new_ptl;
	bool force_flush = false;
	unsigned long len = old_end - old_addr;

	old_ptep = pte_offset_map_lock(mm, old_pmd, old_addr, &old_ptl);
	new_ptep = pte_offset_map(new_pmd, new_addr);
	new_ptl = pte_lockptr(mm, new_pmd);
	if (new_ptl != old_ptl)
		spin_lock_nested(new_ptl, SINGLE_DEPTH_NESTING);
	flush_tlb_batched_pending(vma);

	for (; old_addr < old_end; old_ptep++, old_addr += PAGE_SIZE,
				   new_ptep++, new_addr += PAGE_SIZE) {
		if (pte_none(ptep_get(old_ptep)))
			continue;
		pte = ptep_get_and_clear(mm, old_addr, old_ptep);
		/* Only a dirty PTE is flushed under the lock (against page_mkclean). */
		if (pte_present(pte) && pte_dirty(pte))
			force_flush = true;
		set_pte_at(mm, new_addr, new_ptep, pte);
	}

	if (force_flush)
		flush_tlb_range(vma, old_end - len, old_end);
	else
		*need_flush = true;
	if (new_ptl != old_ptl)
		spin_unlock(new_ptl);
	pte_unmap(new_ptep - 1);
	pte_unmap_unlock(old_ptep - 1, old_ptl);
	return 0;
}

unsigned long move_page_tables(struct mm_struct *vma, unsigned long old_addr,
			       unsigned long new_addr, unsigned long len)
{
	unsigned long old_end = old_addr + len;
	unsigned long extent;
	unsigned long next;
	bool need_flush = false;

	for (; old_addr < old_end; old_addr += extent, new_addr += extent) {
		next = pmd_addr_end(old_addr, old_end);
		extent = next - old_addr;
		move_ptes(vma, pmd_off(vma, old_addr), old_addr, old_addr + extent,
			  pmd_off(vma, new_addr), new_addr, &need_flush);
	}
	/* Every page-table lock is dropped by now. */
	if (need_flush)
		flush_tlb_range(vma, old_end - len, old_addr);
	return len;
}
