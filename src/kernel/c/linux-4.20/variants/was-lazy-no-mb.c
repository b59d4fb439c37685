/* tlbcheck: id=linux-4.20-was-lazy-no-mb kind=bug base=linux-4.20 fixed-by=linux-4.20
 *   title="switch_mm_irqs_off leaves lazy mode without smp_mb() before reading tlb_gen"
 *   source="switch_mm_irqs_off (v4.20): 'The barrier synchronizes with the tlb_gen increment', dropped"
 *   expect=lazy-flush:2:violated:no-stale-tlb-use
 */
/*
 * switch_mm_irqs_off() whose was_lazy path reads tlb_gen without the smp_mb(): the store
 * is_lazy = false waits in the store buffer while we read the old tlb_gen, and the flusher
 * reads our old is_lazy and skips us. Store buffering.
 */
void switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next,
			struct task_struct *tsk)
{
	struct mm_struct *real_prev = this_cpu_read(cpu_tlbstate.loaded_mm);
	u16 prev_asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);
	bool was_lazy = this_cpu_read(cpu_tlbstate.is_lazy);
	unsigned cpu = smp_processor_id();
	u64 next_tlb_gen;
	bool need_flush;
	u16 new_asid;

	this_cpu_write(cpu_tlbstate.is_lazy, false);	/* (1) */

	if (real_prev == next) {
		VM_WARN_ON(this_cpu_read(cpu_tlbstate.ctxs[prev_asid].ctx_id) !=
			   next->context.ctx_id);

		/* Lazy or not, our bit stays set; is_lazy tells the flusher the rest. */
		if (WARN_ON_ONCE(real_prev != &init_mm &&
				 !cpumask_test_cpu(cpu, mm_cpumask(next))))
			cpumask_set_cpu(cpu, mm_cpumask(next));

		/* Another thread of the same process: nothing to flush. */
		if (!was_lazy)
			return;

		/* The bug: no smp_mb() here. */
		next_tlb_gen = atomic64_read(&next->context.tlb_gen);	/* (1) */
		if (this_cpu_read(cpu_tlbstate.ctxs[prev_asid].tlb_gen) ==
				next_tlb_gen)
			return;

		/* The TLB went stale while we were lazy: flush below. */
		new_asid = prev_asid;
		need_flush = true;
	} else {
		cond_ibpb(tsk);

		/* Kernel threads never get flush IPIs for init_mm: skip its mask. */
		if (real_prev != &init_mm)
			cpumask_clear_cpu(cpu, mm_cpumask(real_prev));

		if (next != &init_mm)
			cpumask_set_cpu(cpu, mm_cpumask(next));	/* (2) start remote flushes */
		next_tlb_gen = atomic64_read(&next->context.tlb_gen);	/* (2) */

		choose_new_asid(next, next_tlb_gen, &new_asid, &need_flush);

		/* For nmi_uaccess_okay(): CR3 is about to change. */
		this_cpu_write(cpu_tlbstate.loaded_mm, LOADED_MM_SWITCHING);
		barrier();
	}

	if (need_flush) {
		this_cpu_write(cpu_tlbstate.ctxs[new_asid].ctx_id, next->context.ctx_id);
		this_cpu_write(cpu_tlbstate.ctxs[new_asid].tlb_gen, next_tlb_gen);
		load_new_mm_cr3(next->pgd, new_asid, true);
	} else {
		load_new_mm_cr3(next->pgd, new_asid, false);
	}

	barrier();	/* CR3 before loaded_mm */

	this_cpu_write(cpu_tlbstate.loaded_mm, next);
	this_cpu_write(cpu_tlbstate.loaded_mm_asid, new_asid);

	load_mm_cr4(next);
	switch_ldt(real_prev, next);
}
