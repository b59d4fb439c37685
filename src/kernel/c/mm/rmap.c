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
