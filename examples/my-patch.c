/* tlbcheck: base=linux-4.13 id=my-patch
 *   title="switch_mm_irqs_off: set the cpumask bit after load_cr3"
 */
/*
 * An example patch in C: Linux 4.13's switch_mm_irqs_off() with a "harmless-looking" change
 * that moves cpumask_set_cpu() after the CR3 load. Only the changed function is in the file;
 * every other function comes from the base. Check it from any directory with
 *
 *   npx tlbcheck check --variant ./my-patch.c --scenario switch-vs-flush
 *   npx tlbcheck gate --variant ./my-patch.c
 *
 * Expected: violates no-stale-tlb-use. Between the CR3 load and the bit, the walker fills the
 * old PTE of next while a flusher reads mm_cpumask(next) without our bit and sends no IPI:
 * the ordering the switch_mm comment of seed 004 exists for.
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

	load_cr3(next->pgd);			/* the patch: CR3 first */
	cpumask_set_cpu(cpu, mm_cpumask(next));	/* then the bit */

	cpumask_clear_cpu(cpu, mm_cpumask(real_prev));
}
