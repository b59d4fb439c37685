/*
 * The mmu_gather of Linux v6.18, for x86: mm/mmu_gather.c, with the inline parts of
 * include/asm-generic/tlb.h (__tlb_adjust_range, __tlb_reset_range, tlb_flush_mmu_tlbonly,
 * tlb_remove_tlb_entry, tlb_remove_page), arch/x86/include/asm/tlb.h (tlb_flush) and
 * include/linux/mm_types.h (inc/dec_tlb_flush_pending, mm_tlb_flush_nested). Written for
 * tlbcheck in the kernel's shape and names; the comments are ours. Linked into linux-6.18
 * (link= in its header: the mm files come before its tlb.c and call into it). The same order holds from 4.13 (99baac21e458 made tlb_finish_mmu
 * force a flush when another gather of the mm runs) through 6.18.
 *
 * The order it guarantees: a page taken out of a PTE is freed only after the TLB flush that
 * covers the PTE has returned (tlb_flush_mmu: the flush, then the free).
 *
 * Simplifications, each safe for the scenarios that use it:
 * - The page batch: the kernel keeps encoded page pointers in batches of a page each
 *   (tlb->local, tlb->active, tlb_next_batch). The C subset has no arrays of locals, so the
 *   batch is MAX_GATHER_PAGES fields page0..page3 of the mmu_gather and tlb->nr; a full batch
 *   forces a flush, as when tlb_next_batch() fails. No scenario unmaps more than four pages.
 * - No delayed rmaps (tlb_flush_rmaps): no scenario page is mapped twice.
 * - Page-table pages (tlb_remove_table): x86 frees them through the RCU table batch since
 *   a37259732a7d ("x86/mm: Make MMU_GATHER_RCU_TABLE_FREE unconditional", v6.15; before it,
 *   bare metal freed them like pages, after the flush, and GUP-fast relied on the flush IPI
 *   it blocks with IRQs off). The batch is the one table field tlb->table (no scenario frees
 *   two tables in one gather); its page for the batch itself is not modelled, so the
 *   allocation failure path (tlb_remove_table_one, tlb_remove_table_sync_one) is not either.
 *   call_rcu() runs its callback in the caller after the grace period (env-table.ts call_rcu).
 * - tlb->fullmm: exit_mmap's gather (tlb_gather_mmu_fullmm, mm/mmap.c) and tlb_finish_mmu's
 *   forced flush set it; tlb_flush() then flushes the whole mm.
 */

#define MAX_GATHER_PAGES	4
#define TASK_SIZE		0x100000
#define min(a, b)		((a) < (b) ? (a) : (b))
#define max(a, b)		((a) > (b) ? (a) : (b))

/* ---- include/linux/mm_types.h ---- */

static inline void inc_tlb_flush_pending(struct mm_struct *mm)
{
	atomic_inc(&mm->tlb_flush_pending);
	/*
	 * The count is read by mm_tlb_flush_nested() of another gather, after that one has seen
	 * a PTE this gather changed under the PTL: the LOCK'd increment comes before the change.
	 */
}

static inline void dec_tlb_flush_pending(struct mm_struct *mm)
{
	/* After the flush (tlb_flush_mmu) of this gather: pairs with mm_tlb_flush_nested(). */
	atomic_dec(&mm->tlb_flush_pending);
}

static inline bool mm_tlb_flush_nested(struct mm_struct *mm)
{
	/* More than one gather of this mm is running: one may see a PTE another cleared. */
	return atomic_read(&mm->tlb_flush_pending) > 1;
}

/* ---- include/asm-generic/tlb.h ---- */

static inline void __tlb_adjust_range(struct mmu_gather *tlb,
				      unsigned long address,
				      unsigned int range_size)
{
	tlb->start = min(tlb->start, address);
	tlb->end = max(tlb->end, address + range_size);
}

static inline void __tlb_reset_range(struct mmu_gather *tlb)
{
	if (tlb->fullmm) {
		tlb->start = TLB_FLUSH_ALL;
		tlb->end = TLB_FLUSH_ALL;
	} else {
		tlb->start = TASK_SIZE;
		tlb->end = 0;
	}
	tlb->freed_tables = 0;
	tlb->cleared_ptes = 0;
	tlb->cleared_pmds = 0;
	tlb->cleared_puds = 0;
	tlb->cleared_p4ds = 0;
}

/* arch/x86/include/asm/tlb.h */
static inline void tlb_flush(struct mmu_gather *tlb)
{
	unsigned long start = 0, end = TLB_FLUSH_ALL;
	unsigned int stride_shift = PAGE_SHIFT;

	if (!tlb->fullmm && !tlb->need_flush_all) {
		start = tlb->start;
		end = tlb->end;
	}

	flush_tlb_mm_range(tlb->mm, start, end, stride_shift, tlb->freed_tables);
}

static inline void tlb_flush_mmu_tlbonly(struct mmu_gather *tlb)
{
	/* Nothing cleared or freed since the last flush: nothing to do. */
	if (!(tlb->freed_tables || tlb->cleared_ptes || tlb->cleared_pmds ||
	      tlb->cleared_puds || tlb->cleared_p4ds))
		return;

	tlb_flush(tlb);
	__tlb_reset_range(tlb);
}

static inline void tlb_flush_pte_range(struct mmu_gather *tlb,
				       unsigned long address, unsigned long size)
{
	__tlb_adjust_range(tlb, address, size);
	tlb->cleared_ptes = 1;
}

static inline void tlb_flush_pmd_range(struct mmu_gather *tlb,
				       unsigned long address, unsigned long size)
{
	__tlb_adjust_range(tlb, address, size);
	tlb->cleared_pmds = 1;
}

/*
 * pte_free_tlb(tlb, ptep, address): a leaf table unlinked from its PMD goes into the gather,
 * the PMD range is flushed, and freed_tables makes the flush reach lazy CPUs (their walkers
 * may still hold the PMD in their paging-structure caches). x86 ___pte_free_tlb is
 * tlb_remove_table (paravirt_release_pte has no effect natively).
 */
static inline void pte_free_tlb(struct mmu_gather *tlb, struct page *ptep, unsigned long address)
{
	tlb_flush_pmd_range(tlb, address, PAGE_SIZE);
	tlb->freed_tables = 1;
	tlb_remove_table(tlb, ptep);
}

/* tlb_remove_tlb_entry(tlb, ptep, address): the x86 __tlb_remove_tlb_entry is empty. */
static inline void tlb_remove_tlb_entry(struct mmu_gather *tlb, pte_t *ptep,
					unsigned long address)
{
	tlb_flush_pte_range(tlb, address, PAGE_SIZE);
}

/* ---- mm/mmu_gather.c ---- */

/*
 * __tlb_remove_page_size(): add the page to the batch; true when the batch is full and the
 * caller must flush (and free) before it batches more.
 */
bool __tlb_remove_page_size(struct mmu_gather *tlb, struct page *page, int page_size)
{
	VM_BUG_ON(!tlb->end);

	if (tlb->nr == 0)
		tlb->page0 = page;
	else if (tlb->nr == 1)
		tlb->page1 = page;
	else if (tlb->nr == 2)
		tlb->page2 = page;
	else
		tlb->page3 = page;
	tlb->nr = tlb->nr + 1;
	return tlb->nr == MAX_GATHER_PAGES;
}

static inline bool __tlb_remove_page(struct mmu_gather *tlb, struct page *page, bool delay_rmap)
{
	return __tlb_remove_page_size(tlb, page, PAGE_SIZE);
}

/* tlb_remove_page(): batch the page; flush and free now when the batch is full. */
static inline void tlb_remove_page(struct mmu_gather *tlb, struct page *page)
{
	if (__tlb_remove_page(tlb, page, false))
		tlb_flush_mmu(tlb);
}

/* The pages go back to the allocator: only after tlb_flush_mmu_tlbonly() (see tlb_flush_mmu). */
static void tlb_batch_pages_flush(struct mmu_gather *tlb)
{
	if (tlb->nr > 0)
		free_page_and_swap_cache(tlb->page0);
	if (tlb->nr > 1)
		free_page_and_swap_cache(tlb->page1);
	if (tlb->nr > 2)
		free_page_and_swap_cache(tlb->page2);
	if (tlb->nr > 3)
		free_page_and_swap_cache(tlb->page3);
	tlb->nr = 0;
}

/*
 * tlb_remove_table(): a page-table page unlinked from its upper entry. It must outlive every
 * walk that may still reach it: the hardware walkers' (the flush, with freed_tables set so
 * that it reaches lazy CPUs, whose walkers may use the cached upper entry) and the software
 * walkers' (GUP-fast, with IRQs off: the RCU grace period of tlb_remove_table_free()).
 */
void tlb_remove_table(struct mmu_gather *tlb, struct page *table)
{
	tlb->freed_tables = 1;
	tlb->table = table;
}

/* __tlb_remove_table_free(): the batch's tables go back to the allocator (x86: pagetable_dtor_free). */
static void __tlb_remove_table_free(struct page *table)
{
	free_page_and_swap_cache(table);
}

/* call_rcu's callback; the kernel's takes the batch's rcu_head, the model's the one table. */
static void tlb_remove_table_rcu(struct page *table)
{
	__tlb_remove_table_free(table);
}

/*
 * (T2) Software walkers (GUP-fast) walk with IRQs off, not waiting for any flush: with
 *      INVLPGB the flush sends them no IPI to block. The grace period waits them out
 *      (a37259732a7d).
 */
static void tlb_remove_table_free(struct mmu_gather *tlb)
{
	call_rcu(tlb->table, tlb_remove_table_rcu);	/* (T2) */
}

/* x86 has no MMU_GATHER_NO_TABLE_INVALIDATE: the hardware walkers' caches are flushed first. */
#define tlb_needs_table_invalidate()	(true)

/* (T1) Hardware walkers: no CPU's TLB or paging-structure cache reaches the table any more. */
static inline void tlb_table_invalidate(struct mmu_gather *tlb)
{
	if (tlb_needs_table_invalidate())
		tlb_flush_mmu_tlbonly(tlb);	/* (T1) */
}

static void tlb_table_flush(struct mmu_gather *tlb)
{
	if (tlb->table) {
		tlb_table_invalidate(tlb);	/* (T1) */
		tlb_remove_table_free(tlb);	/* (T2) */
		tlb->table = 0;
	}
}

static void tlb_flush_mmu_free(struct mmu_gather *tlb)
{
	tlb_table_flush(tlb);
	tlb_batch_pages_flush(tlb);
}

void tlb_flush_mmu(struct mmu_gather *tlb)
{
	tlb_flush_mmu_tlbonly(tlb);	/* (1) no CPU can reach the pages any more ... */
	tlb_flush_mmu_free(tlb);	/* (2) ... before they go back to the allocator */
}

static void __tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm,
			     bool fullmm)
{
	tlb->mm = mm;
	tlb->fullmm = fullmm;
	tlb->need_flush_all = 0;
	tlb->nr = 0;
	tlb->table = 0;

	__tlb_reset_range(tlb);
	inc_tlb_flush_pending(tlb->mm);
}

void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm)
{
	__tlb_gather_mmu(tlb, mm, false);
}

/* exit_mmap(): the whole address space goes, so nothing is flushed until tlb_finish_mmu(). */
void tlb_gather_mmu_fullmm(struct mmu_gather *tlb, struct mm_struct *mm)
{
	__tlb_gather_mmu(tlb, mm, true);
}

void tlb_finish_mmu(struct mmu_gather *tlb)
{
	/*
	 * Another thread may be batching PTE changes of this mm under the mmap_lock read side
	 * (MADV_DONTNEED, MADV_FREE): it may have cleared a PTE this gather then found empty,
	 * and not flushed it yet. Flush everything so that this caller does not return with a
	 * stale entry (99baac21e458).
	 */
	if (mm_tlb_flush_nested(tlb->mm)) {
		tlb->fullmm = 1;
		__tlb_reset_range(tlb);
		tlb->freed_tables = 1;
	}

	tlb_flush_mmu(tlb);
	dec_tlb_flush_pending(tlb->mm);
}
