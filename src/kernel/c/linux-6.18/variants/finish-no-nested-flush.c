/* tlbcheck: base=linux-6.18 id=linux-6.18-finish-no-nested-flush kind=bug fixed-by=linux-6.18
 *   title="tlb_finish_mmu does not force a flush when another gather of the mm runs"
 *   source="99baac21e458 ('mm: fix MADV_[FREE|DONTNEED] TLB flush miss problem', v4.13): tlb_finish_mmu (v6.18) without the mm_tlb_flush_nested() branch it added"
 *   expect=madvise-race:2:violated:no-stale-tlb-use,madvise-race:3:violated:no-stale-tlb-use
 */
/*
 * tlb_finish_mmu() as before 99baac21e458: it flushes only what its own gather cleared. Two
 * madvise calls on one range run under the mmap_lock read side; the first clears the PTE and
 * batches its flush, the second finds the PTE already clear, has nothing to flush, and
 * returns while the first has not flushed yet. The second caller's thread then uses its
 * stale TLB entry: a write through it after MADV_FREE dirties a page the kernel believes
 * clean (and may free), after MADV_DONTNEED it reads the old page instead of zeroes.
 */
void tlb_finish_mmu(struct mmu_gather *tlb)
{
	tlb_flush_mmu(tlb);
	dec_tlb_flush_pending(tlb->mm);
}
