/* tlbcheck: base=linux-4.20 id=linux-4.20-free-pte-page-no-flush kind=bug fixed-by=linux-4.20
 *   title="pmd_free_pte_page() frees the PTE page with no flush: other CPUs' paging-structure caches still point at it"
 *   source="28ee90fe6048 ('x86/mm: implement free pmd/pte page interfaces', v4.17), fixed by 5e0fb5df2ee6 ('x86/mm: Add TLB purge to free pmd/pte page interfaces', v4.19); arch/x86/mm/pgtable.c"
 *   expect=kernel-pgtable-free:2:violated:no-walk-through-freed-table,kernel-pgtable-free:3:violated:no-walk-through-freed-table
 */
/*
 * pmd_free_pte_page() as 28ee90fe6048 added it for huge ioremap: clear the pmd and free the
 * PTE page at once. A CPU whose paging-structure cache holds the pmd keeps walking through
 * it, speculatively too, into a page the allocator has handed out again. 5e0fb5df2ee6 put
 * flush_tlb_kernel_range() between the two (P1): INVLPG on every CPU drops its
 * paging-structure caches.
 */
int pmd_free_pte_page(pmd_t *pmd, unsigned long addr)
{
	pte_t *pte;

	if (pmd_none(*pmd))
		return 1;

	pte = (pte_t *)pmd_page_vaddr(*pmd);
	pmd_clear(pmd);
	/* the bug: no flush of the paging-structure caches before the free (P1) */
	free_page((unsigned long)pte);

	return 1;
}
