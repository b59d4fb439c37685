/*
 * on_each_cpu() of kernel/smp.c, as v4.12 through v4.20 have it (the function did not change
 * between those releases), linked by the 4.x generations that flush kernel mappings:
 * linux-4.12, linux-4.13, linux-4.14, linux-4.15-pti and linux-4.20 (link= in their headers).
 * Written for tlbcheck in the kernel's shape and names; the comments are ours. 6.x builds it
 * on on_each_cpu_cond_mask(), so linux-6.18 has its own (linux-6.18/smp.c).
 *
 * func runs on every other online CPU by cross-call (waited for when wait is set), then on
 * this CPU with IRQs off.
 */
int on_each_cpu(smp_call_func_t func, void *info, int wait)
{
	unsigned long flags;
	int ret = 0;

	preempt_disable();
	ret = smp_call_function(func, info, wait);
	local_irq_save(flags);
	func(info);
	local_irq_restore(flags);
	preempt_enable();
	return ret;
}
