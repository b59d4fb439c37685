/* tlbcheck: base=linux-6.18 id=linux-6.18-mprotect-no-batched-flush kind=bug fixed-by=linux-6.18
 *   title="mprotect does not flush a TLB flush that reclaim deferred for the mm"
 *   source="3ea277194daa ('mm, mprotect: flush TLB if potentially racing with a parallel reclaim leaving stale TLB entries', v4.12): change_pte_range (v6.18 mm/mprotect.c) without the flush_tlb_batched_pending() it added"
 *   expect=reclaim-vs-mprotect:2:violated:no-stale-tlb-use,reclaim-vs-mprotect:3:violated:no-stale-tlb-use
 */
/*
 * change_pte_range() as before 3ea277194daa: reclaim has cleared the PTE and deferred its
 * flush (TTU_BATCH_FLUSH); mprotect finds no present PTE, changes nothing, flushes nothing
 * and returns, while its thread still holds the old writable translation. The write that
 * follows goes through it: after mprotect(PROT_READ) returned, to a page reclaim is about to
 * write out or free.
 */
static long change_pte_range(struct mmu_gather *tlb, pmd_t *pmd,
			     unsigned long addr, unsigned long end)
{
	struct mm_struct *mm = tlb->mm;
	pte_t *pte;
	pte_t oldpte;
	pte_t ptent;
	spinlock_t *ptl;
	long pages = 0;

	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte)
		return -1;

	do {
		oldpte = ptep_get(pte);
		if (pte_present(oldpte)) {
			oldpte = ptep_get_and_clear(mm, addr, pte);
			ptent = pte_wrprotect(oldpte);
			set_pte_at(mm, addr, pte, ptent);
			if (pte_needs_flush(oldpte, ptent))
				tlb_flush_pte_range(tlb, addr, PAGE_SIZE);
			pages++;
		}
	} while (pte++, addr += PAGE_SIZE, addr != end);
	pte_unmap_unlock(pte - 1, ptl);

	return pages;
}
