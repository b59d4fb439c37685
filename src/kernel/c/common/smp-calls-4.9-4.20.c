/*
 * The cross-calls of kernel/smp.c as v4.9 through v4.20 have them (their shape did not change
 * in those releases): smp_call_function_single(), smp_call_function_many() and
 * smp_call_function(), and the IPI handler that runs them (at the end of this file). Linked
 * by the 4.x generations and KAISER (link= in their headers); linux-6.18 links its own
 * (linux-6.18/smp.c). Written for tlbcheck in the kernel's shape and
 * names; the comments are ours.
 *
 * As C, a sender in the middle of a cross-call is data, forked on a clone and keyed by its
 * live state, instead of a TypeScript frame replayed on every clone.
 *
 * Simplifications, each safe for what the model checks (the same as the TypeScript helpers
 * this replaces, src/kernel/common/smp.ts, so every search keeps its states):
 * - Every CPU is online: cpu_online_mask is a constant.
 * - cpumask_first_and() and cpumask_next_and() read the mask once between them: they only
 *   choose between the single-target path and the many path, and both queue to exactly the
 *   CPUs of the later read (cpumask_and() into cfd->cpumask), which is a read of its own.
 * - The stack csd of smp_call_function_single() (wait) is this CPU's csd for the target in
 *   the model (tlbcheck_cfd_csd()); the sender holds it until the target released it, so no
 *   other call of this sender uses it meanwhile. It is born locked: a plain store of the lock
 *   bit, with no csd_lock_wait() first.
 * - Queueing a csd and sending its IPI are one LOCK'd step (tlbcheck_csd_queue()); csd->func
 *   and csd->info are the payload of the queued call. The kernel queues every csd first and
 *   sends the IPIs after the loop, so a target here may run its call before the sender has
 *   queued the next one: more interleavings than the kernel has, never fewer. Only synchronous
 *   calls (wait): the handler (flush_smp_call_function_queue() below) runs the function, then
 *   releases the csd; the asynchronous path (the per-CPU csd_data) is not modelled.
 * - smp_call_function_single() to the sender's own CPU (generic_exec_single() runs func
 *   locally, with IRQs off, and sends nothing) is not modelled: no caller here targets its own
 *   CPU (smp_call_function_many() leaves it out), and one that does is a model error
 *   (tlbcheck_csd_queue(): a cross-call to the sender's own CPU).
 * - The IRQs-off check is WARN_ON_ONCE(irqs_disabled()): the kernel's also exempts offline
 *   CPUs, oops_in_progress and early boot, none of which the model has.
 * - get_cpu()/put_cpu() and preempt_disable()/preempt_enable() are left out: every caller
 *   here already runs with preemption off (flush_tlb_mm_range()'s get_cpu(), on_each_cpu()).
 * - csd_lock() is written out where it is used (it is a static inline of kernel/smp.c).
 *
 * Ordering:
 * (1) csd_lock_wait() of a target's csd returns only after the target ran func: the handler
 *     runs it before csd_unlock(), and FIFO store buffers make its stores visible first.
 */

#define CSD_FLAG_LOCK	1

int smp_call_function_single(int cpu, smp_call_func_t func, void *info, int wait)
{
	call_single_data_t *csd;

	WARN_ON_ONCE(irqs_disabled());

	/* csd_stack, born locked (CSD_FLAG_LOCK | CSD_FLAG_SYNCHRONOUS) */
	csd = tlbcheck_cfd_csd(cpu);
	WRITE_ONCE(*csd, CSD_FLAG_LOCK);	/* csd_stack: flags = LOCK|SYNCHRONOUS */
	/* csd->func = func; csd->info = info; llist_add(); the IPI */
	tlbcheck_csd_queue(cpu, csd, func, info, wait);	/* llist_add + send IPI */
	csd_lock_wait(csd);	/* csd_lock_wait (1) */
	return 0;
}

void smp_call_function_many(const struct cpumask *mask,
			    smp_call_func_t func, void *info, bool wait)
{
	int this_cpu = smp_processor_id();
	unsigned long first = 0;
	unsigned long cpumask = 0;	/* cfd->cpumask */
	int cpu, next_cpu;

	WARN_ON_ONCE(irqs_disabled());

	/* cpumask_first_and(), cpumask_next_and(): one read of the mask between them */
	cpumask_and(&first, mask, cpu_online_mask);	/* cpumask_first_and(mask) */
	__cpumask_clear_cpu(this_cpu, &first);
	cpu = cpumask_next(-1, &first);
	if (cpu >= nr_cpu_ids)
		return;

	/* Only one other CPU: the single-target path. */
	next_cpu = cpumask_next(cpu, &first);
	if (next_cpu >= nr_cpu_ids) {
		smp_call_function_single(cpu, func, info, wait);
		return;
	}

	cpumask_and(&cpumask, mask, cpu_online_mask);	/* cpumask_and(cfd->cpumask, mask) */
	__cpumask_clear_cpu(this_cpu, &cpumask);

	/* The mask may have emptied since the first read. */
	if (cpumask_next(-1, &cpumask) >= nr_cpu_ids)
		return;

	/* for_each_cpu(cpu, cfd->cpumask) */
	for (cpu = cpumask_next(-1, &cpumask); cpu < nr_cpu_ids;
	     cpu = cpumask_next(cpu, &cpumask)) {
		call_single_data_t *csd = tlbcheck_cfd_csd(cpu);

		/* csd_lock(csd) */
		csd_lock_wait(csd);	/* csd_lock_wait */
		WRITE_ONCE(*csd, CSD_FLAG_LOCK);	/* csd->flags |= CSD_FLAG_LOCK */
		/* csd->func = func; csd->info = info; llist_add(); the IPI */
		tlbcheck_csd_queue(cpu, csd, func, info, wait);	/* llist_add + send IPI */
	}

	if (wait) {
		for (cpu = cpumask_next(-1, &cpumask); cpu < nr_cpu_ids;
		     cpu = cpumask_next(cpu, &cpumask))
			csd_lock_wait(tlbcheck_cfd_csd(cpu));	/* csd_lock_wait (1) */
	}
}

int smp_call_function(smp_call_func_t func, void *info, int wait)
{
	smp_call_function_many(cpu_online_mask, func, info, wait);
	return 0;
}

/*
 * The call-function IPI handler: arch/x86/kernel/smp.c's smp_call_function_single_interrupt()
 * -> generic_smp_call_function_single_interrupt() -> flush_smp_call_function_queue(true) of
 * kernel/smp.c (v4.13; the same in v4.9-v4.20, where 4.15+ spell the IRQs-off check
 * lockdep_assert_irqs_disabled()). The model has one call-function IPI; both vectors
 * (smp_call_function_interrupt(), for a mask of targets, reaches the same flush through
 * generic_smp_call_function_interrupt()) run this queue flush, so one entry stands for both.
 * The engine runs the entry stub (call_function_single_interrupt, src/kc/variant.ts
 * IPI_C_ENTRIES) when it delivers the IPI, and its IRET when the stub returns.
 *
 * Simplifications, each safe for what the model checks (the steps are those of the
 * TypeScript handler this replaces: per taken csd, the function, then the unlock store):
 * - llist_del_all() of this CPU's call_single_queue is part of the IPI's delivery (the
 *   machine takes the queue in the delivering step); tlbcheck_llist_taken() and friends read
 *   what it took, in queue order (llist_reverse_order()), with no step.
 * - Only synchronous csds (CSD_FLAG_SYNCHRONOUS, wait) are queued (tlbcheck_csd_queue()
 *   refuses wait=0): the function always runs before the unlock, and the asynchronous branch
 *   (unlock, then the function) is never taken.
 * - ipi_entering_ack_irq()/exiting_irq() (irq_enter(), the APIC EOI, irq_exit()), the trace
 *   points, inc_irq_stat(), the offline-CPU warning (every CPU is online) and irq_work_run()
 *   (no irq work is queued in the model) touch nothing the model has.
 * - csd_unlock()'s WARN_ON() of the lock bit is left out: it would be a load of the csd word,
 *   a step of its own, and every sender sets the bit before it queues.
 * - WARN_ON(!irqs_disabled()) is left out: the delivery always runs the handler with IRQs
 *   off, so it cannot fire (and each check would be two more effects per IPI).
 * - smp_call_function_single_interrupt() and generic_smp_call_function_single_interrupt() are
 *   inline here (global functions in the kernel): they only call on, so no event of a trace
 *   is ever inside them, and as inline functions they cost no enter/leave bookkeeping on
 *   every IPI. A patch may still replace either.
 *
 * Ordering:
 * (2) Each function runs before its csd is released (csd_unlock() after func(info)): with
 *     FIFO store buffers every store of the function is visible before the release, so the
 *     sender's csd_lock_wait() (1) sees the function done.
 */

/* Release the csd: the sender's csd_lock_wait() returns once it sees 0. */
static inline void csd_unlock(call_single_data_t *csd)
{
	smp_store_release(csd, 0);	/* csd_unlock: smp_store_release (1) */
}

static void flush_smp_call_function_queue(bool warn_cpu_offline)
{
	call_single_data_t *csd;
	int i, n;

	/* entry = llist_reverse_order(llist_del_all(head)) */
	n = tlbcheck_llist_taken();

	/* llist_for_each_entry_safe(csd, csd_next, entry, llist) */
	for (i = 0; i < n; i++) {
		smp_call_func_t func = tlbcheck_llist_func(i);	/* csd->func */
		void *info = tlbcheck_llist_info(i);	/* csd->info */

		csd = tlbcheck_llist_csd(i);
		/* CSD_FLAG_SYNCHRONOUS: the function first, then the release (2) */
		tlbcheck_csd_do_func(func, info, csd);	/* func(info) */
		csd_unlock(csd);
	}
}

static inline void generic_smp_call_function_single_interrupt(void)
{
	flush_smp_call_function_queue(true);
}

static inline void smp_call_function_single_interrupt(struct pt_regs *regs)
{
	generic_smp_call_function_single_interrupt();
}

/*
 * arch/x86/entry/entry_64.S: the apicinterrupt stub call_function_single_interrupt, the
 * assembly the IPI enters through; the IRET it ends with is the engine's (the entry's end
 * hook, when this returns). Inline: it is not a C function of the kernel, and the trace shows
 * the IRET in the code the IPI interrupted.
 */
static inline void call_function_single_interrupt(void)
{
	smp_call_function_single_interrupt(NULL);
}
