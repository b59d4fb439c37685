/* tlbcheck: base=linux-6.18 id=linux-6.18-gather-free-before-flush kind=bug fixed-by=linux-6.18
 *   title="tlb_flush_mmu frees the gathered pages before it flushes the TLB"
 *   source="seeded: mm/mmu_gather.c tlb_flush_mmu (v6.18) with its two steps swapped (no kernel commit)"
 *   expect=munmap-zap:2:violated:no-use-after-free-page,munmap-zap:3:violated:no-use-after-free-page
 *   expect=munmap-free-table:2:holds
 */
/*
 * A seeded bug, not a kernel commit: tlb_flush_mmu() hands the batched pages back to the
 * allocator before tlb_flush_mmu_tlbonly() has flushed them. Between the two, another CPU
 * of the mm still translates the unmapped address through its TLB entry, and reaches a page
 * that is free, or already someone else's: the use-after-free that the mmu_gather order
 * (flush, then free) exists to prevent.
 *
 * Page tables escape it in 6.18 (munmap-free-table holds): tlb_table_flush() flushes by
 * itself (tlb_table_invalidate, (T1): x86 has no MMU_GATHER_NO_TABLE_INVALIDATE) before it
 * hands the table to RCU (T2), whatever order tlb_flush_mmu() calls it in.
 */
void tlb_flush_mmu(struct mmu_gather *tlb)
{
	tlb_flush_mmu_free(tlb);
	tlb_flush_mmu_tlbonly(tlb);
}
