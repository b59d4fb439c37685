/*
 * The cross-calls of Linux v6.18 kernel/smp.c (and the on_each_cpu*() wrappers of
 * include/linux/smp.h): smp_call_function_many_cond() and its callers, and the IPI handler that
 * runs them (at the end of this file). Written for tlbcheck in
 * the kernel's shape and names; the comments are ours. Linked into linux-6.18 (link= in its
 * header); the 4.x generations and KAISER link common/smp-calls-4.9-4.20.c and (4.20)
 * common/smp-cond-4.19-4.20.c.
 *
 * As C, a sender in the middle of a cross-call is data (its pc, the mask it queued to, the
 * CPU it is at), like any other kernel code: two senders that reached the same point by
 * different reads are one state, and a clone copies the call instead of replaying it.
 *
 * Simplifications, each safe for what the model checks:
 * - Every CPU is online: cpu_online_mask is a constant, and ANDing with it reads nothing.
 * - cfd->cpumask is this CPU's own scratch mask, which no other CPU reads: a local here.
 *   cfd->cpumask_ipi and nr_cpus/last_cpu only choose how the IPIs are sent; see the next point.
 * - Queueing a csd and sending its IPI are one LOCK'd step (tlbcheck_csd_queue): llist_add()
 *   is LOCK'd, and the kernel sends the IPIs after the loop (one, or a mask of them), so a
 *   target here may take its call a little earlier than on hardware. That only adds
 *   interleavings (a target whose queue was already non-empty takes it that early anyway).
 *   csd->func and csd->info are the payload of the queued call (written by the sender to its
 *   own csd and read by the target only after the LOCK'd llist_add).
 * - csd_lock_wait() is one step that waits until the lock word reads 0
 *   (smp_cond_load_acquire() spins on it; the spin's re-reads of an unchanged word change
 *   nothing).
 * - Only synchronous calls (wait): the handler (__flush_smp_call_function_queue() below) runs
 *   the function, then releases the csd (csd_unlock(), a release store: plain on x86).
 * - lockdep_assert_preemption_disabled() and WARN_ON_ONCE(!in_task()) are left out: they
 *   check the caller's context, and every caller in the model is a task with preemption off
 *   (on_each_cpu_cond_mask() and smp_call_function() disable it; flush_tlb_mm_range() holds
 *   get_cpu()). lockdep_assert_irqs_enabled() is a WARN_ON_ONCE(irqs_disabled()) here, as in
 *   the 4.x helpers, so a sender with IRQs off (the deadlock it guards against) is reported as
 *   a kernel assertion. Tracing and CSD_LOCK_WAIT_DEBUG are left out.
 *
 * Ordering:
 * (S1) The mask is read three times (cpumask_any_and_but(), cpumask_and(), then
 *      cpumask_test_cpu() for the local call), as the kernel does: a bit that changes in
 *      between is seen by some reads and not others.
 * (S2) csd_lock_wait() of a target's csd returns only after the target ran func (the handler
 *      runs it before csd_unlock(); FIFO store buffers make its stores visible first).
 */

#define SCF_WAIT	(1U << 0)
#define SCF_RUN_LOCAL	(1U << 1)
#define CSD_FLAG_LOCK	1

/* Take this CPU's csd for a target: wait until its previous call there is done. */
static void csd_lock(call_single_data_t *csd)
{
	csd_lock_wait(csd);
	WRITE_ONCE(*csd, CSD_FLAG_LOCK);	/* csd->node.u_flags |= CSD_FLAG_LOCK */
}

static void smp_call_function_many_cond(const struct cpumask *mask,
					smp_call_func_t func, void *info,
					unsigned int scf_flags,
					smp_cond_func_t cond_func)
{
	bool wait = scf_flags & SCF_WAIT;
	int this_cpu = smp_processor_id();
	unsigned long cpumask = 0;	/* cfd->cpumask */
	bool run_remote = false;
	int cpu;

	WARN_ON_ONCE(irqs_disabled());	/* lockdep_assert_irqs_enabled() */

	/* (S1) Any CPU but this one? */
	if (cpumask_any_and_but(mask, cpu_online_mask, this_cpu) < nr_cpu_ids) {
		cpumask_and(&cpumask, mask, cpu_online_mask);	/* (S1) */
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
	if ((scf_flags & SCF_RUN_LOCAL) && cpumask_test_cpu(this_cpu, mask) &&
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

void smp_call_function_many(const struct cpumask *mask, smp_call_func_t func,
			    void *info, bool wait)
{
	smp_call_function_many_cond(mask, func, info, wait ? SCF_WAIT : 0, NULL);
}

void smp_call_function(smp_call_func_t func, void *info, int wait)
{
	preempt_disable();
	smp_call_function_many(cpu_online_mask, func, info, wait);
	preempt_enable();
}

void on_each_cpu_cond_mask(smp_cond_func_t cond_func, smp_call_func_t func,
			   void *info, bool wait, const struct cpumask *mask)
{
	unsigned int scf_flags = SCF_RUN_LOCAL;

	if (wait)
		scf_flags |= SCF_WAIT;

	preempt_disable();
	smp_call_function_many_cond(mask, func, info, scf_flags, cond_func);
	preempt_enable();
}

/* include/linux/smp.h */
static inline void on_each_cpu_mask(const struct cpumask *mask,
				    smp_call_func_t func, void *info, bool wait)
{
	on_each_cpu_cond_mask(NULL, func, info, wait, mask);
}

/* include/linux/smp.h */
static inline void on_each_cpu(smp_call_func_t func, void *info, int wait)
{
	on_each_cpu_cond_mask(NULL, func, info, wait, cpu_online_mask);
}

/*
 * The call-function IPI handler: arch/x86/kernel/smp.c's sysvec_call_function_single() ->
 * generic_smp_call_function_single_interrupt() -> __flush_smp_call_function_queue(true) of
 * kernel/smp.c (v6.18). The model has one call-function IPI; both vectors
 * (sysvec_call_function, for a mask of targets, reaches the same flush through
 * generic_smp_call_function_interrupt()) run this queue flush, so one entry stands for both.
 * The engine runs the entry stub (asm_sysvec_call_function_single, src/kc/variant.ts
 * IPI_C_ENTRIES) when it delivers the IPI, and its IRET when the stub returns.
 *
 * Simplifications, each safe for what the model checks (the steps are those of the
 * TypeScript handler this replaces: per taken csd, the function, then the unlock store):
 * - llist_del_all() of this CPU's call_single_queue is part of the IPI's delivery (the
 *   machine takes the queue in the delivering step); tlbcheck_llist_taken() and friends read
 *   what it took, in queue order (llist_reverse_order()), with no step.
 * - Only synchronous csds (CSD_TYPE_SYNC) are queued (tlbcheck_csd_queue() refuses wait=0), so
 *   the first loop runs every csd and the !SYNC and TTWU passes have nothing to do; unlinking
 *   each run csd from the list (prev/entry) only serves those passes.
 * - apic_eoi(), the trace points, inc_irq_stat(), csd_lock_record() (CSD_LOCK_WAIT_DEBUG) and
 *   the offline-CPU warning (every CPU is online) touch nothing the model has.
 * - The release of trigger_backtrace (atomic_set_release(), read only by
 *   CSD_LOCK_WAIT_DEBUG's csd_lock_wait_toolong()) is left out: a store no one reads here,
 *   which would only add a store and its drain to every IPI.
 * - csd_unlock()'s WARN_ON() of the lock bit is left out: it would be a load of the csd word,
 *   a step of its own, and every sender sets the bit before it queues.
 * - lockdep_assert_irqs_disabled() is left out: the delivery always runs the handler with
 *   IRQs off, so it cannot fire (and each check would be two more effects per IPI).
 * - sysvec_call_function_single() and generic_smp_call_function_single_interrupt() are
 *   inline here (global functions in the kernel): they only call on, so no event of a trace
 *   is ever inside them, and as inline functions they cost no enter/leave bookkeeping on
 *   every IPI. A patch may still replace either.
 *
 * Ordering:
 * (H1) Each function runs before its csd is released (csd_unlock() after csd_do_func()): with
 *      FIFO store buffers every store of the function is visible before the release, so the
 *      sender's csd_lock_wait() (S2) sees the function done.
 */

/* Release the csd: the sender's csd_lock_wait() returns once it sees 0. */
static inline void csd_unlock(call_single_data_t *csd)
{
	smp_store_release(csd, 0);	/* csd_unlock: smp_store_release (1) */
}

/* func(info), in a frame of its own (tracing left out). */
static inline void csd_do_func(smp_call_func_t func, void *info, call_single_data_t *csd)
{
	tlbcheck_csd_do_func(func, info, csd);
}

static void __flush_smp_call_function_queue(bool warn_cpu_offline)
{
	call_single_data_t *csd;
	int i, n;

	/* entry = llist_reverse_order(llist_del_all(head)) */
	n = tlbcheck_llist_taken();

	/* Each taken csd is synchronous: its function, then its release (H1) */
	for (i = 0; i < n; i++) {
		smp_call_func_t func = tlbcheck_llist_func(i);	/* csd->func */
		void *info = tlbcheck_llist_info(i);	/* csd->info */

		csd = tlbcheck_llist_csd(i);
		csd_do_func(func, info, csd);
		csd_unlock(csd);
	}
}

static inline void generic_smp_call_function_single_interrupt(void)
{
	__flush_smp_call_function_queue(true);
}

/* DEFINE_IDTENTRY_SYSVEC(sysvec_call_function_single) */
static inline void sysvec_call_function_single(struct pt_regs *regs)
{
	generic_smp_call_function_single_interrupt();
}

/*
 * arch/x86/entry/entry_64.S: asm_sysvec_call_function_single (idtentry_sysvec), the assembly
 * the IPI enters through; the IRET it ends with is the engine's (the entry's end hook, when
 * this returns). Inline: it is not a C function of the kernel, and the trace shows the IRET
 * in the code the IPI interrupted.
 */
static inline void asm_sysvec_call_function_single(void)
{
	sysvec_call_function_single(NULL);
}
