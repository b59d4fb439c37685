/*
 * on_each_cpu_mask() and the conditional on_each_cpu_cond_mask() of kernel/smp.c as v4.19
 * and v4.20 have them (on_each_cpu_cond_mask() is new in 4.19, before it on_each_cpu_cond()
 * without a mask; its gfp_flags argument went in 5.x; on_each_cpu_mask() is much older),
 * linked by linux-4.20 (link= in its header). Written for tlbcheck in the kernel's shape and
 * names; the comments are ours. They run on the senders of common/smp-calls-4.9-4.20.c.
 *
 * Simplifications, each safe for what the model checks:
 * - zalloc_cpumask_var() always succeeds (GFP_ATOMIC, a word-sized mask with
 *   CONFIG_CPUMASK_OFFSTACK off): the mask of chosen CPUs is a local here, and the fallback
 *   path that calls smp_call_function_single() CPU by CPU is left out.
 * - get_cpu()/put_cpu() and preempt_disable()/preempt_enable() are kept; might_sleep_if() is
 *   left out (GFP_ATOMIC never sleeps).
 *
 * Ordering:
 * (C1) for_each_cpu(cpu, mask) reads the mask at each step (cpumask_next()), and the
 *      condition reads the CPU's lazy state in between: a bit set or cleared meanwhile is
 *      seen by some steps and not others.
 */

void on_each_cpu_mask(const struct cpumask *mask, smp_call_func_t func,
		      void *info, bool wait)
{
	int cpu = get_cpu();

	smp_call_function_many(mask, func, info, wait);
	if (cpumask_test_cpu(cpu, mask)) {
		unsigned long flags;

		local_irq_save(flags);
		func(info);
		local_irq_restore(flags);
	}
	put_cpu();
}

void on_each_cpu_cond_mask(smp_cond_func_t cond_func, smp_call_func_t func,
			   void *info, bool wait, gfp_t gfp_flags,
			   const struct cpumask *mask)
{
	unsigned long cpus = 0;	/* cpumask_var_t cpus, zalloc'd */
	int cpu;

	preempt_disable();
	/* for_each_cpu(cpu, mask): (C1) */
	for (cpu = cpumask_next(-1, mask); cpu < nr_cpu_ids;
	     cpu = cpumask_next(cpu, mask))
		if (cond_func(cpu, info))
			__cpumask_set_cpu(cpu, &cpus);
	on_each_cpu_mask(&cpus, func, info, wait);
	preempt_enable();
}
