/* tlbcheck: id=linux-4.14-reuse-asid-no-flush kind=bug base=linux-4.14 fixed-by=linux-4.14
 *   title="choose_new_asid reuses a round-robin ASID slot without a flush"
 *   source="choose_new_asid (v4.14): the round-robin path's '*need_flush = true', replaced by claiming the slot as current"
 *   expect=asid-reuse:2:violated:no-stale-tlb-use,asid-reuse:3:violated:no-stale-tlb-use
 */
/*
 * choose_new_asid() that hands out a recycled slot as if it were current: it records next's
 * ctx_id and tlb_gen in the slot and asks for no flush, so the caller loads CR3 with NOFLUSH
 * over the previous owner's translations.
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
		*need_flush = (this_cpu_read(cpu_tlbstate.ctxs[asid].tlb_gen) <
			       next_tlb_gen);
		return;
	}

	*new_asid = this_cpu_add_return(cpu_tlbstate.next_asid, 1) - 1;
	if (*new_asid >= TLB_NR_DYN_ASIDS) {
		*new_asid = 0;
		this_cpu_write(cpu_tlbstate.next_asid, 1);
	}
	/* The bug: the slot is claimed as current, and nothing flushes it. */
	this_cpu_write(cpu_tlbstate.ctxs[*new_asid].ctx_id, next->context.ctx_id);
	this_cpu_write(cpu_tlbstate.ctxs[*new_asid].tlb_gen, next_tlb_gen);
	*need_flush = false;
}
