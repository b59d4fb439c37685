/* tlbcheck: id=linux-4.14-noflush-stale-gen kind=bug base=linux-4.14 fixed-by=linux-4.14
 *   title="switch_mm loads CR3 with NOFLUSH although the ASID slot missed a flush (tlb_gen behind)"
 *   source="choose_new_asid (v4.14): 'need_flush = ctxs[asid].tlb_gen < next_tlb_gen', dropped"
 *   expect=lazy-flush:2:violated:no-stale-tlb-use
 */
/*
 * choose_new_asid() that reuses our own slot for next without comparing its tlb_gen: a slot
 * that missed flushes while unloaded is loaded with NOFLUSH.
 */
static void choose_new_asid(struct mm_struct *next, u64 next_tlb_gen,
			    u16 *new_asid, bool *need_flush)
{
	u16 asid;

	if (!static_cpu_has(X86_FEATURE_PCID)) {
		*new_asid = 0;
		*need_flush = true;
		return;
	}

	for (asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
		if (this_cpu_read(cpu_tlbstate.ctxs[asid].ctx_id) !=
		    next->context.ctx_id)
			continue;

		*new_asid = asid;
		*need_flush = false;	/* the bug: tlb_gen is not compared */
		return;
	}

	*new_asid = this_cpu_add_return(cpu_tlbstate.next_asid, 1) - 1;
	if (*new_asid >= TLB_NR_DYN_ASIDS) {
		*new_asid = 0;
		this_cpu_write(cpu_tlbstate.next_asid, 1);
	}
	*need_flush = true;
}
