/* tlbcheck: id=linux-4.20-clear-prev-after-cr3 kind=fix base=linux-4.20
 *   title="switch_mm_irqs_off() clears the previous mm's mm_cpumask bit after the CR3 write (a proposal: v4.14 until the lazy mm_cpumask)"
 *   source="proposed: the order of 831d52bc1539 ('x86, mm: avoid possible bogus tlb entries by clearing prev mm_cpumask after switching mm', 2012), which v4.13 still had; arch/x86/mm/tlb.c switch_mm_irqs_off @ v4.20"
 *   expect=mm-reuse:2:holds
 *   expect=switch-vs-flush:2:holds,lazy-flush:2:holds,lazy-free-pgtables:2:holds,asid-reuse:2:holds,concurrent-flushes:2:holds
 *   expect=nmi-uaccess-switch:2:holds
 *   expect=switch-away-free-pgtables:2:holds,switch-away-free-pgtables:3:holds
 */
/*
 * What this shows, not a released kernel: linux-4.20 violates no-walk-through-freed-table
 * on mm-reuse and on switch-away-free-pgtables at 2 and 3 CPUs (the scenarios' notes;
 * docs/design.md "The switch-away window"). switch_mm_irqs_off() clears this CPU's bit in mm_cpumask(real_prev)
 * before it writes CR3 (since the v4.14 rework "x86/mm: Rework lazy TLB mode and TLB
 * freshness tracking"). Between the two, CR3 still points at real_prev's page tables and the
 * paging-structure caches may hold its upper entries, but a flusher of real_prev no longer
 * sees us: exit_mmap() on another CPU clears the pmd, flushes only the CPUs left in the mask
 * and frees the page table while our walker can still reach it. 2012's 831d52bc1539 had fixed
 * exactly this by clearing the bit after the CR3 write; v4.12 and v4.13 still do (their rows
 * hold). Upstream closed the window differently: 209954cbc7d0 ("x86/mm/tlb: Update
 * mm_cpumask lazily") stops clearing the bit at switch time altogether (linux-6.18 holds).
 *
 * The only change from linux-4.20/tlb.c: the cpumask_clear_cpu() of real_prev moves from
 * before the cpumask_set_cpu() of next to after load_new_mm_cr3(), marked (W). A flush IPI
 * that reaches us for real_prev after the switch finds loaded_mm != f->mm and returns
 * (flush_tlb_func_remote), as in v4.13.
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

		smp_mb();	/* (1) pairs with flush_tlb_mm_range (1) */
		next_tlb_gen = atomic64_read(&next->context.tlb_gen);	/* (1) */
		if (this_cpu_read(cpu_tlbstate.ctxs[prev_asid].tlb_gen) ==
				next_tlb_gen)
			return;

		/* The TLB went stale while we were lazy: flush below. */
		new_asid = prev_asid;
		need_flush = true;
	} else {
		cond_ibpb(tsk);

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

	/*
	 * (W) Only now, with CR3 on next, stop remote flushes for the mm we left: until the
	 *     CR3 write our walker may still use real_prev's tables, so a flusher that frees
	 *     one must still IPI us (and wait: our IRQs are off until after the switch).
	 */
	if (real_prev != next && real_prev != &init_mm)
		cpumask_clear_cpu(cpu, mm_cpumask(real_prev));	/* (W) */

	barrier();	/* CR3 before loaded_mm */

	this_cpu_write(cpu_tlbstate.loaded_mm, next);
	this_cpu_write(cpu_tlbstate.loaded_mm_asid, new_asid);

	load_mm_cr4(next);
	switch_ldt(real_prev, next);
}
