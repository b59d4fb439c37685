/* tlbcheck: base=linux-6.18 id=linux-6.18-table-free-no-rcu kind=bug fixed-by=linux-6.18
 *   title="Page tables freed right after the flush, without RCU: with INVLPGB, GUP-fast walks a freed table"
 *   source="before a37259732a7d ('x86/mm: Make MMU_GATHER_RCU_TABLE_FREE unconditional', v6.15), mm/mmu_gather.c tlb_remove_table_free"
 *   expect=gup-fast-vs-free-table:2:violated:no-walk-through-freed-table@invlpgb,gup-fast-vs-free-table:3:violated:no-walk-through-freed-table@invlpgb
 *   expect=gup-fast-vs-free-table:2:holds,gup-fast-vs-free-table:3:holds
 */
/*
 * x86 on bare metal before a37259732a7d: without MMU_GATHER_RCU_TABLE_FREE, a page table went
 * back to the allocator with the gather's pages, right after tlb_flush_mmu_tlbonly()'s flush
 * ((T2) gone). GUP-fast was safe only because that flush was an IPI to every CPU that may run
 * the mm, which waits until the walker's IRQs-off section is over (mm/gup.c (G0)); paravirt
 * flushes, which do not interrupt the target, used RCU freeing already.
 *
 * Expected: holds without INVLPGB (the IPI waits for the walk), and violates
 * no-walk-through-freed-table with --features invlpgb: an mm on a global ASID is flushed by
 * INVLPGB/TLBSYNC, no CPU is interrupted, and the table is freed (and reused) while the
 * GUP-fast walker on another CPU still reads it. That is why the INVLPGB series made RCU
 * table freeing unconditional on x86 before using broadcast flushes.
 */
static void tlb_remove_table_free(struct mmu_gather *tlb)
{
	__tlb_remove_table_free(tlb->table);	/* the bug: no grace period, (T2) */
}
