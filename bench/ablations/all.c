/* tlbcheck: id=abl-all base=linux-6.18 kind=user
 *   title="ablation: one-mask-read.c, smp-one-mask-read.c and csd-lock-one-step.c together"
 */
#define SCF_WAIT	(1U << 0)
#define SCF_RUN_LOCAL	(1U << 1)
#define CSD_FLAG_LOCK	1

static void csd_lock(call_single_data_t *csd)
{
	/*
	 * Ablation: the wait and the take as one LOCK'd step. On spin-scaled the csd is always
	 * free here (each sender waited for its previous call to this target before), so the
	 * exchange always succeeds.
	 */
	WARN_ON_ONCE(atomic_cmpxchg(csd, 0, CSD_FLAG_LOCK) != 0);
}

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

void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, unsigned int stride_shift,
			bool freed_tables)
{
	struct flush_tlb_info *info;
	int cpu = get_cpu();
	u64 new_tlb_gen;

	new_tlb_gen = inc_mm_tlb_gen(mm);	/* (1) */

	info = get_flush_tlb_info(mm, start, end, stride_shift, freed_tables,
				  new_tlb_gen);

	if (mm_global_asid(mm)) {
		broadcast_tlb_flush(info);
	} else {
		info->trim_cpumask = should_trim_cpumask(mm);
		flush_tlb_multi(mm_cpumask(mm), info);
		consider_global_asid(mm);
	}

	put_flush_tlb_info();
	put_cpu();
}
