/*
 * GUP-fast of Linux v6.18 mm/gup.c: gup_fast(), gup_fast_pgd_range(), gup_fast_pmd_range()
 * and gup_fast_pte_range(), for the model's two table levels. Written for tlbcheck in the
 * kernel's shape and names; the comments are ours. Linked into linux-6.18 (link= in its
 * header). The walk is the same from 4.13 (then get_user_pages_fast in
 * arch/x86/mm/gup.c, made generic by e585513b76f7 in 4.13) through 6.18.
 *
 * What it relies on: it reads user page tables with plain loads and no lock, so a table
 * page must not be freed (and reused) while it walks it. It keeps IRQs off over the walk:
 * - with IPI flushes (every x86 kernel before 6.15, and 6.15+ without INVLPGB), the freeing
 *   side's TLB flush IPI cannot be taken until the walk is over, and the table is freed only
 *   after every target took it;
 * - with INVLPGB the flush sends no IPI, so x86 frees tables after an RCU grace period
 *   (a37259732a7d, mm/mmu_gather.c tlb_remove_table_free), which an IRQs-off section holds
 *   up as well.
 * The loads are walkLoad effects (pmdp_get_lockless, ptep_get_lockless): the machine reports
 * each table page read, and no-walk-through-freed-table judges them like hardware walks.
 *
 * Simplified, and why that is safe:
 * - The pgd/p4d/pud levels are folded into pmd_off(current->mm, addr): the model has two
 *   levels, the upper one standing for the PMD (as in mm/memory.c's model).
 * - No pages array and no folio references (try_grab_folio_fast, gup_put_folio): nothing in
 *   the scenarios frees a pinned page, and the invariant is about the walk, which is the same.
 *   The recheck after the grab (pmd and PTE unchanged) is kept: it is a read of the table.
 * - No FOLL_PIN (write_protect_seq), no devmap, special, huge or PROT_NONE entries
 *   (pte_protnone, pmd_leaf): the scenarios map ordinary anonymous 4K pages.
 * - gup_fast_permitted() is true (the range is user space).
 */

#define pmd_val(x)		(x)
#define pte_val(x)		(x)
#define FOLL_WRITE		0x01

/*
 * (G1) The PTE page is reached through the pmd value read once (the local copy pmd); the
 *      walk may run on after the pmd was cleared, until the recheck (G3).
 * (G2) The PTE read: the walker's access to the table page; it must not be freed yet.
 * (G3) Bail out when the pmd or the PTE changed under the walk (the kernel then drops the
 *      reference it took).
 */
static int gup_fast_pte_range(pmd_t pmd, pmd_t *pmdp, unsigned long addr,
			      unsigned long end, unsigned int flags)
{
	int ret = 0;
	pte_t *ptep, *ptem;
	pte_t pte;

	ptem = ptep = pte_offset_map(&pmd, addr);	/* (G1) */
	if (!ptep)
		return 0;
	do {
		pte = ptep_get_lockless(ptep);		/* (G2) */

		if (!pte_access_permitted(pte, flags & FOLL_WRITE))
			goto pte_unmap;

		if (pmd_val(pmd) != pmd_val(pmdp_get(pmdp)) ||
		    pte_val(pte) != pte_val(ptep_get(ptep)))	/* (G3) */
			goto pte_unmap;
	} while (ptep++, addr += PAGE_SIZE, addr != end);

	ret = 1;

pte_unmap:
	pte_unmap(ptem);
	return ret;
}

static int gup_fast_pmd_range(struct mm_struct *mm, unsigned long addr,
			      unsigned long end, unsigned int flags)
{
	unsigned long next;
	pmd_t *pmdp;
	pmd_t pmd;

	pmdp = pmd_off(mm, addr);
	do {
		pmd = pmdp_get_lockless(pmdp);

		next = pmd_addr_end(addr, end);
		if (!pmd_present(pmd))
			return 0;

		if (!gup_fast_pte_range(pmd, pmdp, addr, next, flags))
			return 0;
	} while (pmdp++, addr = next, addr != end);

	return 1;
}

static void gup_fast_pgd_range(unsigned long addr, unsigned long end,
			       unsigned int flags)
{
	gup_fast_pmd_range(current->mm, addr, end, flags);
}

/*
 * (G0) IRQs off across the walk: the flush IPI of a table-freeing CPU waits until the walk
 *      is over, and so does an RCU grace period. Pairs with tlb_table_flush (T2) and with
 *      the flush IPI of tlb_flush_mmu_tlbonly (T1).
 */
unsigned long gup_fast(unsigned long start, unsigned long end,
		       unsigned int gup_flags)
{
	unsigned long flags;

	local_irq_save(flags);			/* (G0) */
	gup_fast_pgd_range(start, end, gup_flags);
	local_irq_restore(flags);		/* (G0) */

	return 0;
}
