/* tlbcheck: base=linux-6.18 id=linux-6.18-flush-range-not-freed kind=bug fixed-by=linux-6.18
 *   title="flush_tlb_range() passes freed_tables=false: a pmd collapse skips lazy CPUs that may walk the freed table"
 *   source="3ef938c35035 ('x86/mm: Fix flush_tlb_range() when used for zapping normal PMDs', CVE-2025-22045, v6.15; Fixes: 016c4d92cd16), arch/x86/include/asm/tlbflush.h"
 *   expect=collapse-flush:2:violated:no-walk-through-freed-table,collapse-flush:3:violated:no-walk-through-freed-table
 */
/*
 * flush_tlb_range() before 3ef938c35035: freed_tables is false (R1), so
 * native_flush_tlb_multi() asks should_flush_tlb() and skips lazy CPUs. khugepaged's
 * collapse_pte_mapped_thp() clears a pmd that points to a PTE page with
 * pmdp_collapse_flush(), which flushes with flush_tlb_range(), and then frees the PTE page:
 * a lazy CPU's paging-structure cache still holds the pmd, and its speculative walk reads
 * the freed page. Seed 003's hazard, reached through a caller that did not say it freed a
 * table.
 */
void flush_tlb_range(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	flush_tlb_mm_range(mm, start, end, PAGE_SHIFT, false);	/* the bug: (R1) */
}
