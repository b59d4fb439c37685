/*
 * MADV_DONTNEED and MADV_FREE of Linux v6.18 mm/madvise.c, for one anonymous range. Written
 * for tlbcheck in the kernel's shape and names; the comments are ours. Both run under the
 * mmap_lock read side, so two of them can change the PTEs of one range at once: each takes
 * the PTE lock, but batches its TLB flush in its mmu_gather (mm/mmu_gather.c) and flushes
 * only in tlb_finish_mmu.
 *
 * Simplifications: no VMA (the range is one anonymous private VMA), no large folios (6.18
 * splits or batches them), no swap entries; folio_mark_lazyfree (moving the folio to the
 * lazyfree LRU, where reclaim later frees it if the PTE is still clean) has no effect in the
 * model. madvise_walk_vmas and the madvise_behavior plumbing of 6.18 call these with one
 * gather per call (madvise_lock / tlb_gather_mmu ... tlb_finish_mmu / madvise_unlock).
 */

/* MADV_DONTNEED: madvise_dontneed_single_vma -> zap_page_range_single_batched. */
long madvise_dontneed(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct mmu_gather tlb;

	tlb_gather_mmu(&tlb, mm);
	unmap_page_range(&tlb, mm, start, end);
	tlb_finish_mmu(&tlb);
	return 0;
}

/* madvise_free_pte_range(): mark the present PTEs old and clean, so reclaim may drop them. */
static int madvise_free_pte_range(struct mmu_gather *tlb, pmd_t *pmd,
				  unsigned long addr, unsigned long end)
{
	struct mm_struct *mm = tlb->mm;
	spinlock_t *ptl;
	pte_t *start_pte;
	pte_t *pte;
	pte_t ptent;

	start_pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	pte = start_pte;
	if (!start_pte)
		return 0;
	flush_tlb_batched_pending(mm);
	for (; addr != end; pte++, addr += PAGE_SIZE) {
		ptent = ptep_get(pte);
		if (pte_none(ptent))
			continue;
		if (!pte_present(ptent))
			continue;
		if (pte_young(ptent) || pte_dirty(ptent)) {
			ptent = ptep_get_and_clear_full(mm, addr, pte, tlb->fullmm);
			ptent = pte_mkold(ptent);
			ptent = pte_mkclean(ptent);
			set_pte_at(mm, addr, pte, ptent);
			tlb_remove_tlb_entry(tlb, pte, addr);
		}
	}
	pte_unmap_unlock(start_pte, ptl);
	return 0;
}

/* MADV_FREE: madvise_free_single_vma(). */
long madvise_free(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct mmu_gather tlb;
	unsigned long next;

	tlb_gather_mmu(&tlb, mm);
	do {
		next = pmd_addr_end(start, end);
		madvise_free_pte_range(&tlb, pmd_off(mm, start), start, next);
		start = next;
	} while (start != end);
	tlb_finish_mmu(&tlb);
	return 0;
}
