/* tlbcheck: id=linux-4.14-asid-by-mm-address kind=bug base=linux-4.14 fixed-by=linux-4.14
 *   title="ASID slots (cpu_tlbstate.ctxs[]) name their mm by its address instead of ctx_id"
 *   source="v4.14 choose_new_asid/switch_mm_irqs_off without f39681ed0f48's ctx_id ('x86/mm: Give each mm TLB flush generation a unique ID'): what the unique ID prevents"
 *   boot=pcid-4.14-by-address
 *   expect=mm-reuse:1:violated:no-dead-mm-translation,mm-reuse:2:violated:no-dead-mm-translation
 */
/*
 * f39681ed0f48 gave every mm a ctx_id that "uniquely identifies the mm_struct and will never
 * be reused", and 4.14's PCID code names the owner of each ASID slot by it. This variant
 * keeps the rest of 4.14 and names the owner by the mm_struct's address, as an
 * implementation without the unique ID would have to. It is wrong because addresses are
 * reused: once an mm is freed, fork may hand its address to a new mm. That mm's tlb_gen
 * starts at 0, so the dead mm's slot, still holding its translations (the dead mm's exit
 * switched this CPU to init_mm first, so exit_mmap's flush did not reach it), looks current:
 * choose_new_asid() keeps it and switch_mm_irqs_off() loads CR3 with NOFLUSH.
 *
 * Its boot (boot=pcid-4.14-by-address) names the owners of the slots by address too.
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
		/* The bug: the slot's owner compared by address, which a later mm may have. */
		if (this_cpu_read(cpu_tlbstate.ctxs[asid].ctx_id) !=
		    (unsigned long)next)
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
	*need_flush = true;
}

void switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next,
			struct task_struct *tsk)
{
	struct mm_struct *real_prev = this_cpu_read(cpu_tlbstate.loaded_mm);
	u16 prev_asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);
	unsigned cpu = smp_processor_id();
	u64 next_tlb_gen;

	this_cpu_write(cpu_tlbstate.is_lazy, false);

	if (real_prev == next) {
		VM_WARN_ON(this_cpu_read(cpu_tlbstate.ctxs[prev_asid].ctx_id) !=
			   (unsigned long)next);

		/* A real mm stays loaded only with our bit set in its mask. */
		if (WARN_ON_ONCE(real_prev != &init_mm &&
				 !cpumask_test_cpu(cpu, mm_cpumask(next))))
			cpumask_set_cpu(cpu, mm_cpumask(next));

		/* A lazy CPU got every flush IPI: nothing to catch up. */
		return;
	} else {
		u16 new_asid;
		bool need_flush;

		cpumask_clear_cpu(cpu, mm_cpumask(real_prev));	/* (3) stop remote flushes */

		cpumask_set_cpu(cpu, mm_cpumask(next));		/* (1) start remote flushes */
		next_tlb_gen = atomic64_read(&next->context.tlb_gen);	/* (1) */

		choose_new_asid(next, next_tlb_gen, &new_asid, &need_flush);

		if (need_flush) {
			this_cpu_write(cpu_tlbstate.ctxs[new_asid].ctx_id, (unsigned long)next);	/* the slot's owner: next's address */
			this_cpu_write(cpu_tlbstate.ctxs[new_asid].tlb_gen, next_tlb_gen);
			write_cr3(build_cr3(next->pgd, new_asid));	/* (2) */
		} else {
			/* The slot is current: keep its translations. */
			write_cr3(build_cr3_noflush(next->pgd, new_asid));	/* (2) */
		}

		this_cpu_write(cpu_tlbstate.loaded_mm, next);
		this_cpu_write(cpu_tlbstate.loaded_mm_asid, new_asid);
	}

	load_mm_cr4(next);
	switch_ldt(real_prev, next);
}
