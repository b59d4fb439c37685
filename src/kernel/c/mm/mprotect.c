/*
 * mprotect(PROT_READ) of Linux v6.18 mm/mprotect.c (change_pte_range under an mmu_gather,
 * as since 4a18419f71cd, v5.19), for one anonymous range of the model's two-level tables.
 * Written for tlbcheck in the kernel's shape and names; the comments are ours.
 *
 * The rule of 3ea277194daa ("mm, mprotect: flush TLB if potentially racing with a parallel
 * reclaim leaving stale TLB entries", v4.12): under the PTL, before looking at the PTEs,
 * flush_tlb_batched_pending(). Reclaim may have cleared a PTE of the range and deferred its
 * flush; mprotect then sees nothing to change and flushes nothing, and returns while a CPU
 * can still write through the old, writable translation.
 *
 * Simplifications: no VMA (newprot is PROT_READ: pte_modify clears _PAGE_RW), one PTE at a
 * time (no folio batching), no NUMA hinting (MM_CP_PROT_NUMA), uffd-wp, soft-dirty or
 * swap/migration entries; the mmap_lock is held for write by mprotect, and reclaim does not
 * take it.
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

	flush_tlb_batched_pending(mm);
	do {
		oldpte = ptep_get(pte);
		if (pte_present(oldpte)) {
			/* modify_prot_start_ptes / modify_prot_commit_ptes */
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

static long change_protection(struct mmu_gather *tlb, struct mm_struct *mm,
			      unsigned long start, unsigned long end)
{
	unsigned long next;
	long pages = 0;

	do {
		next = pmd_addr_end(start, end);
		pages += change_pte_range(tlb, pmd_off(mm, start), start, next);
		start = next;
	} while (start != end);
	return pages;
}

/* do_mprotect_pkey(start, len, PROT_READ): one gather around the change. */
long mprotect_readonly(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct mmu_gather tlb;

	tlb_gather_mmu(&tlb, mm);
	change_protection(&tlb, mm, start, end);
	tlb_finish_mmu(&tlb);
	return 0;
}
