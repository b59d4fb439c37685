/* tlbcheck: base=linux-6.18 id=linux-6.18-broadcast-no-tlbsync kind=bug fixed-by=linux-6.18
 *   title="broadcast_tlb_flush returns without TLBSYNC: the INVLPGBs may still be on their way"
 *   source="seeded: broadcast_tlb_flush (v6.18) without its __tlbsync(); the rule of asm/tlb.h __tlbsync and AMD APM Vol. 3 TLBSYNC"
 *   expect=broadcast-flush:2:violated:no-stale-tlb-use@invlpgb,broadcast-flush:3:violated:no-stale-tlb-use@invlpgb
 */
/*
 * broadcast_tlb_flush() without its closing __tlbsync() (B2): INVLPGB only starts the
 * invalidation on every CPU, so the flush returns while another CPU still holds, and uses,
 * the old translation of the global ASID. A seeded bug, not a kernel commit: it breaks the
 * rule that asm/tlb.h states for __tlbsync() and that the 6.15 series ("x86/mm: Add INVLPGB
 * support code", Rik van Riel, 2025) builds every _nosync helper on.
 */
static void broadcast_tlb_flush(struct flush_tlb_info *info)
{
	bool pmd = info->stride_shift == PMD_SHIFT;
	unsigned long asid = mm_global_asid(info->mm);
	unsigned long addr = info->start;
	unsigned long nr;

	if (info->end == TLB_FLUSH_ALL) {
		invlpgb_flush_single_pcid_nosync(kern_pcid(asid));
		if (cpu_feature_enabled(X86_FEATURE_PTI))
			invlpgb_flush_single_pcid_nosync(user_pcid(asid));
	} else do {
		nr = 1;

		if (info->stride_shift <= PMD_SHIFT) {
			nr = (info->end - addr) >> info->stride_shift;
			if (nr < 1)
				nr = 1;
			if (nr > invlpgb_count_max)
				nr = invlpgb_count_max;
		}

		invlpgb_flush_user_nr_nosync(kern_pcid(asid), addr, nr, pmd);
		if (cpu_feature_enabled(X86_FEATURE_PTI))
			invlpgb_flush_user_nr_nosync(user_pcid(asid), addr, nr, pmd);

		addr += nr << info->stride_shift;
	} while (addr < info->end);

	finish_asid_transition(info);
}
