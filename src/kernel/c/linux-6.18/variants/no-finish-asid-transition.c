/* tlbcheck: base=linux-6.18 id=linux-6.18-no-finish-asid-transition kind=bug fixed-by=linux-6.18
 *   title="broadcast_tlb_flush without finish_asid_transition: a CPU still on its dynamic ASID misses the flush"
 *   source="seeded: broadcast_tlb_flush (v6.18) without finish_asid_transition(); the window x86/mm: Handle global ASID context switch and TLB flush (6.15) covers"
 *   expect=broadcast-transition:2:violated:no-stale-tlb-use@invlpgb,broadcast-transition:3:violated:no-stale-tlb-use@invlpgb
 */
/*
 * broadcast_tlb_flush() that trusts the broadcast alone. While mm->context.asid_transition
 * is set, a CPU may still run the mm on its dynamic ASID: the INVLPGB of the global PCID
 * does not match those entries, so without finish_asid_transition()'s IPI that CPU keeps
 * the old translation after the flush returned. A seeded bug, not a kernel commit: it drops
 * the step that "x86/mm: Handle global ASID context switch and TLB flush" (6.15 series,
 * Rik van Riel, 2025) adds for exactly this window.
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

	__tlbsync();
}
