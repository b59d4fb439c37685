/* tlbcheck: id=linux-6.17-switch-no-mb-gen-checked kind=bug base=linux-6.17-switch-no-mb fixed-by=linux-6.18-gen-checked
 *   title="switch_mm_irqs_off without smp_mb() (before 83b0177a6c48), caught by the declared invariant tlb-gen-caught-up"
 *   source="arch/x86/mm/tlb.c @ v6.17; fixed by 83b0177a6c48 (x86/mm: Fix SMP ordering in switch_mm_irqs_off()); the invariant tlb-gen-caught-up is declared here"
 *   invariant=tlb-gen-caught-up:tlb_gen_caught_up
 *   expect=switch-vs-flush:2:violated:tlb-gen-caught-up,switch-vs-flush-local:2:violated:tlb-gen-caught-up
 */
/*
 * linux-6.17-switch-no-mb with the invariant of linux-6.18-gen-checked: the switching CPU reads
 * the old tlb_gen while the flusher, which read its old loaded_mm, skips it. The declared
 * invariant reports the CPU as behind once the flush has returned, before the stale
 * translation is used.
 */
/*
 * tlb-gen-caught-up, declared by this variant and checked on every CPU after every step: a CPU
 * on which a user thread of an mm runs (its context_switch() has finished), on a dynamic ASID,
 * has caught up with the mm's tlb_gen whenever no flush of that mm is in flight.
 * flush_tlb_mm_range() relies on it: it bumps mm->context.tlb_gen and then skips every CPU that
 * should_flush_tlb() says needs nothing, so a CPU that switched in with an older generation
 * while being skipped keeps the old translations after the flush has returned. Our own
 * predicate, not kernel code; it only reads.
 */
static bool tlb_gen_caught_up(void)
{
	struct mm_struct *mm = tlbcheck_user_mm(smp_processor_id());
	u16 asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);

	if (!mm || !is_dyn_asid(asid))
		return true;
	if (tlbcheck_flush_in_flight(mm))
		return true;
	return this_cpu_read(cpu_tlbstate.ctxs[asid].tlb_gen) ==
	       atomic64_read(&mm->context.tlb_gen);
}
