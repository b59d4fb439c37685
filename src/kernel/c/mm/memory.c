/*
 * The zap path of Linux v6.18 mm/memory.c (zap_pte_range, unmap_page_range,
 * zap_page_range_single) and the munmap teardown of mm/vma.c (unmap_region), for the model's
 * two-level tables. Written for tlbcheck in the kernel's shape and names; the comments are
 * ours. Linked into linux-6.18 after mm/mmu_gather.c.
 *
 * Simplifications, each safe for the modelled scenarios:
 * - No vm_area_struct: the entry points take the mm and the range (one anonymous VMA). The
 *   mmap_lock is not a primitive: munmap holds it for write, MADV_DONTNEED/FREE for read, and
 *   the scenarios only run operations that may run together under it.
 * - zap_pte_range handles present anonymous PTEs one at a time (6.18's zap_present_ptes
 *   batches the PTEs of a large folio; the model has no large folios), without swap or
 *   device entries, rss counters, the rmap, dirty-page writeback (force_flush for a dirty
 *   shared page) and need_resched().
 * - The upper level stands for the PMD: unmap_page_range walks one table per PMD range.
 * - mmu notifiers, lru_add_drain, update_hiwater_rss and the lazy MMU mode (paravirt only)
 *   have no effect on a native x86 TLB and are left out.
 */

#define PMD_SIZE	(16 * PAGE_SIZE)
#define pmd_addr_end(addr, end)	min(((addr) + PMD_SIZE) / PMD_SIZE * PMD_SIZE, (end))

static unsigned long zap_pte_range(struct mmu_gather *tlb, pmd_t *pmd,
				   unsigned long addr, unsigned long end)
{
	bool force_flush = false;
	struct mm_struct *mm = tlb->mm;
	spinlock_t *ptl;
	pte_t *start_pte;
	pte_t *pte;
	pte_t ptent;
	struct page *page;

	start_pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	pte = start_pte;
	if (!pte)
		return end;
	flush_tlb_batched_pending(mm);
	do {
		ptent = ptep_get(pte);
		if (pte_none(ptent))
			continue;
		if (pte_present(ptent)) {
			page = vm_normal_page(mm, addr, ptent);
			ptent = ptep_get_and_clear_full(mm, addr, pte, tlb->fullmm);
			tlb_remove_tlb_entry(tlb, pte, addr);
			if (__tlb_remove_page(tlb, page, false)) {
				force_flush = true;
				addr += PAGE_SIZE;
				break;
			}
		}
	} while (pte++, addr += PAGE_SIZE, addr != end);

	/* A forced flush happens while the PTE lock is still held. */
	if (force_flush)
		tlb_flush_mmu_tlbonly(tlb);
	pte_unmap_unlock(start_pte, ptl);

	/* A full batch: free it now, and come back for the rest of the range. */
	if (force_flush)
		tlb_flush_mmu(tlb);

	return addr;
}

void unmap_page_range(struct mmu_gather *tlb, struct mm_struct *mm,
		      unsigned long addr, unsigned long end)
{
	unsigned long next;
	pmd_t *pmd;

	do {
		next = pmd_addr_end(addr, end);
		pmd = pmd_off(mm, addr);
		addr = zap_pte_range(tlb, pmd, addr, next);
		if (addr != next)
			continue;
	} while (addr != end);
}

/* mm/memory.c zap_page_range_single(): one gather around one range. */
void zap_page_range_single(struct mm_struct *mm, unsigned long address,
			   unsigned long size)
{
	struct mmu_gather tlb;
	unsigned long end = address + size;

	tlb_gather_mmu(&tlb, mm);
	unmap_page_range(&tlb, mm, address, end);
	tlb_finish_mmu(&tlb);
}

/*
 * free_pgtables() -> free_pgd_range() -> ... -> free_pte_range() (mm/memory.c, v6.18), for the
 * model's one table level: a leaf table whose whole PMD range lies in [floor, ceiling) is
 * unlinked (pmd_clear) and handed to the gather (pte_free_tlb), which frees it after the
 * flush. A table with a mapping left outside the range stays.
 */
static void free_pte_range(struct mmu_gather *tlb, pmd_t *pmd, unsigned long addr)
{
	struct page *token = pmd_pgtable(pmdp_get(pmd));

	pmd_clear(pmd);
	pte_free_tlb(tlb, token, addr);
}

void free_pgd_range(struct mmu_gather *tlb, struct mm_struct *mm,
		    unsigned long floor, unsigned long ceiling)
{
	unsigned long addr = floor / PMD_SIZE * PMD_SIZE;

	for (; addr < ceiling; addr += PMD_SIZE) {
		if (addr < floor || addr + PMD_SIZE > ceiling)
			continue;
		if (pmd_none(pmdp_get(pmd_off(mm, addr))))
			continue;
		free_pte_range(tlb, pmd_off(mm, addr), addr);
	}
}

/*
 * mm/vma.c unmap_region() for munmap (mmap_lock held for write): gather, unmap, free the
 * page tables the range covers whole (free_pgtables), finish. free_pgtables() walks the vmas
 * and calls free_pgd_range() for each; the model has one vma, so unmap_region() calls
 * free_pgd_range() itself (the mm stands in for tlb->mm, the range for the vma's).
 */
void unmap_region(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct mmu_gather tlb;

	tlb_gather_mmu(&tlb, mm);
	unmap_page_range(&tlb, mm, start, end);
	free_pgd_range(&tlb, mm, start, end);
	tlb_finish_mmu(&tlb);
}
