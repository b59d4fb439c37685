/* tlbcheck: id=linux-4.13-cr3-before-cpumask kind=bug base=linux-4.13 fixed-by=linux-4.13
 *   title="switch_mm_irqs_off loads CR3 before setting its mm_cpumask bit"
 *   source="seed 004: the switch_mm ordering comment ('load_cr3() is serializing')"
 *   expect=switch-vs-flush:2:violated:no-stale-tlb-use,switch-vs-flush:3:violated:no-stale-tlb-use,idle-leave-mm:2:violated:no-stale-tlb-use
 */
/*
 * switch_mm_irqs_off() of 4.13 with load_cr3() moved above cpumask_set_cpu(): between the
 * two, the walker may fill the old PTE of next while a flusher reads the mask without our
 * bit and sends no IPI. Seed 004's ordering constraint, broken from the switch side.
 */
void switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next,
			struct task_struct *tsk)
{
	struct mm_struct *real_prev = this_cpu_read(cpu_tlbstate.loaded_mm);
	unsigned cpu = smp_processor_id();

	this_cpu_write(cpu_tlbstate.state, TLBSTATE_OK);

	if (real_prev == next) {
		if (WARN_ON_ONCE(!cpumask_test_cpu(cpu, mm_cpumask(next))))
			cpumask_set_cpu(cpu, mm_cpumask(next));
		return;
	}

	this_cpu_write(cpu_tlbstate.loaded_mm, next);

	WARN_ON_ONCE(cpumask_test_cpu(cpu, mm_cpumask(next)));

	load_cr3(next->pgd);			/* BEFORE the cpumask bit: breaks (1) */
	cpumask_set_cpu(cpu, mm_cpumask(next));	/* too late */

	WARN_ON_ONCE(!cpumask_test_cpu(cpu, mm_cpumask(real_prev)) &&
		     real_prev != &init_mm);
	cpumask_clear_cpu(cpu, mm_cpumask(real_prev));

	load_mm_cr4(next);
	switch_ldt(real_prev, next);
}
