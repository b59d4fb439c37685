/* tlbcheck: id=pasid-ipi-proposal kind=bug base=linux-4.13 fixed-by=pasid-ipi-mb
 *   title="PASID proposal (2020): load_mm_pasid in switch_mm, update by on_each_cpu_mask without a barrier"
 *   source="seed 002: Andy Lutomirski, LKML 2020-08-03, 'Re: [PATCH v6 12/12] x86/traps: Fix up invalid PASID'"
 *   expect=pasid-update:2:violated:per-mm-state-coherent,pasid-update:3:violated:per-mm-state-coherent
 */
/*
 * PASID as per-mm CPU state: Andy Lutomirski's proposal (seed 002, LKML 2020-08-03, "Re:
 * [PATCH v6 12/12] x86/traps: Fix up invalid PASID"), over the 4.13 switch path, as in the
 * TypeScript pasid-ipi-proposal (src/kernel/pasid/proposal.ts says why 4.13 is a faithful
 * base). on_each_cpu_mask() is kernel/smp.c's of 5.8. Written for tlbcheck; the comments are
 * ours.
 *
 * Simplification: MSR_IA32_PASID is XSAVE-managed per-thread state; the model keeps it per
 * CPU and writes it with WRMSR where the proposal writes tsk->xstate, which is what the thread
 * runs with once it returns to user.
 */

/*
 * (1) Read the PASID only after our bit in mm_cpumask(next) is set: "this code needs to be at
 *     the end of the function where it's protected by mm_cpumask". Pairs with
 *     update_mm_pasid (1).
 */
static void load_mm_pasid(struct mm_struct *mm)
{
	wrmsrl(MSR_IA32_PASID, READ_ONCE(mm->context.pasid));	/* (1) */
}

void switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next,
			struct task_struct *tsk)
{
	struct mm_struct *real_prev = this_cpu_read(cpu_tlbstate.loaded_mm);
	unsigned cpu = smp_processor_id();

	this_cpu_write(cpu_tlbstate.state, TLBSTATE_OK);

	if (real_prev == next) {
		if (WARN_ON_ONCE(!cpumask_test_cpu(cpu, mm_cpumask(next))))
			cpumask_set_cpu(cpu, mm_cpumask(next));
	} else {
		this_cpu_write(cpu_tlbstate.loaded_mm, next);

		WARN_ON_ONCE(cpumask_test_cpu(cpu, mm_cpumask(next)));
		cpumask_set_cpu(cpu, mm_cpumask(next));
		load_cr3(next->pgd);

		WARN_ON_ONCE(!cpumask_test_cpu(cpu, mm_cpumask(real_prev)) &&
			     real_prev != &init_mm);
		cpumask_clear_cpu(cpu, mm_cpumask(real_prev));
	}

	load_mm_pasid(next);	/* (1) after cpumask_set_cpu, on both paths */
}

/* The IPI function: reload the PASID if this CPU runs mm. */
static void load_mm_pasid_ipi(void *info)
{
	struct mm_struct *mm = info;

	if (this_cpu_read(cpu_tlbstate.loaded_mm) != mm)
		return;
	load_mm_pasid(mm);
}

/* kernel/smp.c (5.8): the others through smp_call_function_many(), then this CPU. */
void on_each_cpu_mask(const struct cpumask *mask, smp_call_func_t func,
		      void *info, bool wait)
{
	int cpu = get_cpu();

	smp_call_function_many(mask, func, info, wait);
	if (cpumask_test_cpu(cpu, mask)) {	/* (2) */
		unsigned long flags;

		local_irq_save(flags);
		func(info);
		local_irq_restore(flags);
	}
	put_cpu();
}

/*
 * (1) The store to mm->context.pasid must be visible before mm_cpumask(mm) is read, or a CPU
 *     that sets its bit after our read and then reads the PASID still sees the old value.
 *     The proposal has no barrier here: a plain store, then a load, the store-buffering
 *     shape that x86-TSO allows.
 * (2) The mask read decides who is IPIed; a CPU not in it must read the new value itself.
 */
void update_mm_pasid(struct mm_struct *mm, u32 pasid)
{
	WRITE_ONCE(mm->context.pasid, pasid);	/* (1) */
	on_each_cpu_mask(mm_cpumask(mm), load_mm_pasid_ipi, mm, true);
}
