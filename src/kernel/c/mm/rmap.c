/*
 * The batched reclaim flush of Linux v6.18 mm/rmap.c: flush_tlb_batched_pending(), which
 * 3ea277194daa ("mm, mprotect: flush TLB if potentially racing with a parallel reclaim
 * leaving stale TLB entries", v4.12) added. Written for tlbcheck in the kernel's shape and
 * names; the comments are ours.
 *
 * mm->tlb_flush_batched (include/linux/mm_types.h, v6.18) packs two counters: the flushes
 * reclaim deferred for this mm (pending, the low bits) and the value of pending that the last
 * flush_tlb_batched_pending() flushed for (flushed, from bit 16). The scenario declares the
 * word as `<mm>.tlb_flush_batched`.
 */

#define flush_tlb_mm(mm)	flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, 0, true)
/* arch/x86/include/asm/paravirt.h without CONFIG_PARAVIRT, as in the base's tlb.c. */
#define flush_tlb_multi(mask, info)	native_flush_tlb_multi(mask, info)

#define TLB_FLUSH_BATCH_FLUSHED_SHIFT	16
#define TLB_FLUSH_BATCH_PENDING_MASK	((1 << (TLB_FLUSH_BATCH_FLUSHED_SHIFT - 1)) - 1)

/*
 * flush_tlb_batched_pending(): called under the PTL by every path that changes PTEs of mm
 * (zap, mprotect, mremap, MADV_FREE): if reclaim unmapped a page of this mm and has not
 * flushed yet, flush now, so this caller's own later flush decisions see no stale entry.
 */
void flush_tlb_batched_pending(struct mm_struct *mm)
{
	int batch = atomic_read(&mm->tlb_flush_batched);
	int pending = batch & TLB_FLUSH_BATCH_PENDING_MASK;
	int flushed = batch >> TLB_FLUSH_BATCH_FLUSHED_SHIFT;

	if (pending != flushed) {
		flush_tlb_mm(mm);
		/*
		 * If a new flush was deferred meanwhile, the cmpxchg fails and the next caller
		 * flushes again.
		 */
		atomic_cmpxchg(&mm->tlb_flush_batched, batch,
			       pending | (pending << TLB_FLUSH_BATCH_FLUSHED_SHIFT));
	}
}

/* ---- arch/x86/include/asm/tlbflush.h and arch/x86/mm/tlb.c (kept here with their callers) ---- */

/* asm/tlb.h (6.15+): INVLPGB of every non-global translation on every CPU, then TLBSYNC. */
static inline void invlpgb_flush_all_nonglobals(void)
{
	__invlpgb(0, 0, 0, 1, PTE_STRIDE, INVLPGB_MODE_ALL_NONGLOBALS);
	__tlbsync();
}

/*
 * arch_tlbbatch_add_pending(): note that mm's TLBs need a flush later. The new tlb_gen makes
 * every CPU of the mm flush fully when the batch is flushed (flush_tlb_func sees more than
 * one generation pending, or TLB_GENERATION_INVALID).
 */
static inline void arch_tlbbatch_add_pending(struct arch_tlbflush_unmap_batch *batch,
					     struct mm_struct *mm, unsigned long start,
					     unsigned long end)
{
	inc_mm_tlb_gen(mm);
	cpumask_or(&batch->cpumask, &batch->cpumask, mm_cpumask(mm));
	batch->unmapped_pages = true;
}

/*
 * arch_tlbbatch_flush() of arch/x86/mm/tlb.c (v6.18): one flush of everything for every CPU
 * in the batch's mask. info->mm is NULL: should_flush_tlb() must send it to every CPU that
 * is not lazy, whatever mm it runs.
 */
void arch_tlbbatch_flush(struct arch_tlbflush_unmap_batch *batch)
{
	struct flush_tlb_info *info;
	int cpu = get_cpu();

	info = get_flush_tlb_info(NULL, 0, TLB_FLUSH_ALL, 0, false,
				  TLB_GENERATION_INVALID);
	if (cpu_feature_enabled(X86_FEATURE_INVLPGB) && batch->unmapped_pages) {
		/* One broadcast of everything non-global, instead of IPIs (no row runs it yet). */
		invlpgb_flush_all_nonglobals();
		batch->unmapped_pages = false;
	} else if (cpumask_any_but(&batch->cpumask, cpu) < nr_cpu_ids) {
		flush_tlb_multi(&batch->cpumask, info);
	} else if (cpumask_test_cpu(cpu, &batch->cpumask)) {
		local_irq_disable();
		flush_tlb_func(info);
		local_irq_enable();
	}

	cpumask_clear(&batch->cpumask);
	batch->unmapped_pages = false;

	put_cpu();
}

/* ---- mm/rmap.c ---- */

#define TLB_FLUSH_BATCH_PENDING_LARGE	(TLB_FLUSH_BATCH_PENDING_MASK / 2)

/* try_to_unmap_flush(): flush what reclaim deferred, before the pages are freed. */
void try_to_unmap_flush(void)
{
	struct tlbflush_unmap_batch *tlb_ubc = &current->tlb_ubc;

	if (!tlb_ubc->flush_required)
		return;

	arch_tlbbatch_flush(&tlb_ubc->arch);
	tlb_ubc->flush_required = false;
	tlb_ubc->writable = false;
}

/* try_to_unmap_flush_dirty(): the same, when a dirty PTE was unmapped (before writeback). */
void try_to_unmap_flush_dirty(void)
{
	struct tlbflush_unmap_batch *tlb_ubc = &current->tlb_ubc;

	if (tlb_ubc->writable)
		try_to_unmap_flush();
}

/*
 * set_tlb_ubc_flush_pending(): the PTE is cleared and its flush deferred. Count the deferral
 * in mm->tlb_flush_batched, so that a PTE change of this mm under the PTL meanwhile
 * (flush_tlb_batched_pending) flushes first.
 */
static void set_tlb_ubc_flush_pending(struct mm_struct *mm, pte_t pteval,
				      unsigned long start, unsigned long end)
{
	struct tlbflush_unmap_batch *tlb_ubc = &current->tlb_ubc;
	int batch;
	int nbatch;
	bool writable = pte_dirty(pteval);

	if (!pte_accessible(mm, pteval))
		return;

	arch_tlbbatch_add_pending(&tlb_ubc->arch, mm, start, end);
	tlb_ubc->flush_required = true;

	/* The PTE is cleared before tlb_flush_batched counts it (compiler barrier). */
	barrier();
	batch = atomic_read(&mm->tlb_flush_batched);
retry:
	if ((batch & TLB_FLUSH_BATCH_PENDING_MASK) > TLB_FLUSH_BATCH_PENDING_LARGE) {
		/* Keep pending from catching up with flushed: restart at 1 and 0. */
		nbatch = atomic_cmpxchg(&mm->tlb_flush_batched, batch, 1);
		if (nbatch != batch) {
			batch = nbatch;
			goto retry;
		}
	} else {
		atomic_inc(&mm->tlb_flush_batched);
	}

	if (writable)
		tlb_ubc->writable = true;
}

/*
 * try_to_unmap_one() for one anonymous PTE with TTU_BATCH_FLUSH (should_defer_flush() is
 * true: reclaim): page_vma_mapped_walk() takes the PTL; the PTE is cleared and its flush
 * deferred. Simplified: the page has one mapping, at address, so there is no rmap walk (the
 * kernel starts from the folio; here the function returns the page it unmapped, or NULL); no
 * swap entry is installed (the PTE stays none: the model does not fault pages back in); no
 * mlock or hugetlb checks.
 */
static struct page *try_to_unmap_one(struct mm_struct *mm, unsigned long address)
{
	spinlock_t *ptl;
	pte_t *pte;
	pte_t pteval;

	pte = pte_offset_map_lock(mm, pmd_off(mm, address), address, &ptl);
	if (!pte)
		return NULL;
	pteval = ptep_get(pte);
	if (!pte_present(pteval)) {
		pte_unmap_unlock(pte, ptl);
		return NULL;
	}
	/* Cleared now, flushed later: a CPU may still use the old translation. */
	pteval = ptep_get_and_clear(mm, address, pte);
	set_tlb_ubc_flush_pending(mm, pteval, address, address + PAGE_SIZE);
	pte_unmap_unlock(pte, ptl);
	return vm_normal_page(mm, address, pteval);
}

/*
 * The reclaim of one anonymous page (mm/vmscan.c shrink_folio_list, simplified): unmap it
 * with a deferred flush, flush the batch, free the page. The page goes to the allocator
 * only after try_to_unmap_flush() (shrink_folio_list calls it before free_unref_folios).
 */
long shrink_page(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct page *page = try_to_unmap_one(mm, start);

	if (page) {
		try_to_unmap_flush_dirty();
		try_to_unmap_flush();
		free_page_and_swap_cache(page);
	}
	return 0;
}
