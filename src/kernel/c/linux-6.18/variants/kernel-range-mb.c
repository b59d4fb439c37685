/* tlbcheck: id=linux-6.18-kernel-range-mb kind=fix base=linux-6.18
 *   title="flush_tlb_kernel_range() with smp_mb() before its INVLPGBs (a proposal, no kernel commit)"
 *   source="proposed: the kernel-range counterpart of broadcast_tlb_flush's (B1), where inc_mm_tlb_gen()'s LOCK XADD orders the PTE stores before INVLPGB; arch/x86/mm/tlb.c flush_tlb_kernel_range @ v6.18"
 *   expect=kernel-range-flush-global:2:holds@invlpgb,kernel-range-flush-global:3:holds@invlpgb
 *   expect=kernel-pgtable-free:2:holds@invlpgb,kernel-pgtable-free:3:holds@invlpgb
 */
/*
 * What this shows, not a kernel fix: with --features invlpgb, linux-6.18 violates
 * kernel-range-flush-global (no-stale-kernel-translation) and kernel-pgtable-free
 * (no-walk-through-freed-table). The model takes INVLPGB as the kernel's asm/tlb.h describes
 * it, weakly ordered: it does not wait for the CPU's older stores, so a CPU may apply it, and
 * its walker re-read the old entry from memory, before the PTE or pmd store that the flush is
 * for leaves the store buffer. The user-address path is ordered by inc_mm_tlb_gen()'s LOCK
 * XADD ((B1) in broadcast_tlb_flush); flush_tlb_kernel_range() has no LOCK'd instruction
 * before its INVLPGB (get_flush_tlb_info()'s DEBUG_VM counter is a per-CPU add, not LOCK'd),
 * and pmd_free_pte_page() or cpa_flush() call it right after their plain stores. TLBSYNC
 * is serializing and drains the buffer, but too late: the re-read happens between the
 * INVLPGB's arrival and the drain, and survives the TLBSYNC. A full barrier before the first
 * INVLPGB closes it (expected: holds). Whether real hardware needs it depends on whether an
 * INVLPGB can take effect before the CPU's older stores are visible, which neither the
 * kernel's comment nor the sources within reach say; the model does not assume it cannot.
 *
 * (K0) smp_mb(): the stores that changed the kernel mapping are visible before any CPU
 *      applies the INVLPGB (pairs with the walkers' reads of memory after it).
 */
void flush_tlb_kernel_range(unsigned long start, unsigned long end)
{
	struct flush_tlb_info *info;

	preempt_disable();

	info = get_flush_tlb_info(NULL, start, end, PAGE_SHIFT, false,
				  TLB_GENERATION_INVALID);

	if (cpu_feature_enabled(X86_FEATURE_INVLPGB))
		smp_mb();	/* (K0) */

	if (info->end == TLB_FLUSH_ALL)
		kernel_tlb_flush_all(info);
	else
		kernel_tlb_flush_range(info);

	put_flush_tlb_info();
	preempt_enable();
}
