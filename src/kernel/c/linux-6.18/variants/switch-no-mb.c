/* tlbcheck: id=linux-6.17-switch-no-mb kind=bug base=linux-6.18 fixed-by=linux-6.18
 *   title="switch_mm_irqs_off without smp_mb() when the mm_cpumask bit is already set (before 83b0177a6c48)"
 *   source="arch/x86/mm/tlb.c @ v6.17; fixed by 83b0177a6c48 (x86/mm: Fix SMP ordering in switch_mm_irqs_off())"
 *   expect=switch-vs-flush:2:violated:no-stale-tlb-use
 */
/*
 * switch_mm_irqs_off() as before 83b0177a6c48 ("x86/mm: Fix SMP ordering in
 * switch_mm_irqs_off()"): when our bit in mm_cpumask(next) is already set, nothing orders the
 * store of LOADED_MM_SWITCHING before the read of tlb_gen. The flusher reads the old
 * loaded_mm and skips us; we read the old tlb_gen and load CR3 with NOFLUSH over the stale
 * ASID. Store buffering.
 */
void switch_mm_irqs_off(struct mm_struct *unused, struct mm_struct *next,
			struct task_struct *tsk)
{
	struct mm_struct *prev = this_cpu_read(cpu_tlbstate.loaded_mm);
	u16 prev_asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);
	bool was_lazy = this_cpu_read(cpu_tlbstate_shared.is_lazy);
	unsigned cpu = smp_processor_id();
	struct new_asid ns;
	u64 next_tlb_gen;

	if (was_lazy)
		this_cpu_write(cpu_tlbstate_shared.is_lazy, false);

	if (prev == next) {
		if (!was_lazy)
			return;

		smp_mb();
		next_tlb_gen = atomic64_read(&next->context.tlb_gen);
		if (this_cpu_read(cpu_tlbstate.ctxs[prev_asid].tlb_gen) ==
				next_tlb_gen)
			return;

		ns.asid = prev_asid;
		ns.need_flush = true;
	} else {
		cond_mitigation(tsk);

		this_cpu_write(cpu_tlbstate.loaded_mm, LOADED_MM_SWITCHING);
		barrier();

		/* Only the LOCK BTS orders the store above: nothing when the bit is set. */
		if (next != &init_mm && !cpumask_test_cpu(cpu, mm_cpumask(next)))
			cpumask_set_cpu(cpu, mm_cpumask(next));

		next_tlb_gen = atomic64_read(&next->context.tlb_gen);

		ns = choose_new_asid(next, next_tlb_gen);
	}

	if (ns.need_flush) {
		this_cpu_write(cpu_tlbstate.ctxs[ns.asid].ctx_id, next->context.ctx_id);
		this_cpu_write(cpu_tlbstate.ctxs[ns.asid].tlb_gen, next_tlb_gen);
		load_new_mm_cr3(next->pgd, ns.asid, true);
	} else {
		load_new_mm_cr3(next->pgd, ns.asid, false);
	}

	barrier();

	this_cpu_write(cpu_tlbstate.loaded_mm, next);
	this_cpu_write(cpu_tlbstate.loaded_mm_asid, ns.asid);
}
