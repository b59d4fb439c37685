/* tlbcheck: id=abl-smp-one-mask-read base=linux-6.18 kind=user
 *   title="ablation: smp_call_function_many_cond() reading the mask once"
 */
/*
 * An ablation (bench/ablations/README.md), not a kernel change: v6.18's
 * smp_call_function_many_cond() reads the mask three times (cpumask_any_and_but(),
 * cpumask_and(), cpumask_test_cpu() for the local call); SPIN's model, and tlbcheck's
 * TypeScript helper before kernel/smp.c was C, read it once.
 */
#define SCF_WAIT	(1U << 0)
#define SCF_RUN_LOCAL	(1U << 1)
#define CSD_FLAG_LOCK	1

static void smp_call_function_many_cond(const struct cpumask *mask,
					smp_call_func_t func, void *info,
					unsigned int scf_flags,
					smp_cond_func_t cond_func)
{
	bool wait = scf_flags & SCF_WAIT;
	int this_cpu = smp_processor_id();
	unsigned long cpumask = 0;	/* cfd->cpumask */
	unsigned long local;
	bool run_remote = false;
	int cpu;

	/* Ablation: the mask is read once, for the remote and the local call. */
	cpumask_and(&cpumask, mask, cpu_online_mask);
	local = cpumask;
	{
		__cpumask_clear_cpu(this_cpu, &cpumask);

		/* for_each_cpu(cpu, cpumask) */
		for (cpu = cpumask_next(-1, &cpumask); cpu < nr_cpu_ids;
		     cpu = cpumask_next(cpu, &cpumask)) {
			call_single_data_t *csd = tlbcheck_cfd_csd(cpu);

			if (cond_func && !cond_func(cpu, info)) {
				__cpumask_clear_cpu(cpu, &cpumask);
				continue;
			}

			run_remote = true;
			csd_lock(csd);
			/* csd->func = func; csd->info = info; llist_add(); the IPI */
			tlbcheck_csd_queue(cpu, csd, func, info, wait);
		}
	}

	/* (S1) This CPU too? */
	if ((scf_flags & SCF_RUN_LOCAL) && cpumask_test_cpu(this_cpu, &local) &&
	    (!cond_func || cond_func(this_cpu, info))) {
		unsigned long flags;

		local_irq_save(flags);
		func(info);	/* csd_do_func(func, info, NULL) */
		local_irq_restore(flags);
	}

	/* (S2) */
	if (run_remote && wait) {
		for (cpu = cpumask_next(-1, &cpumask); cpu < nr_cpu_ids;
		     cpu = cpumask_next(cpu, &cpumask))
			csd_lock_wait(tlbcheck_cfd_csd(cpu));
	}
}
