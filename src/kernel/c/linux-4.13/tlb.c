/* tlbcheck: id=linux-4.13 kind=base boot=loaded_mm
 *   title="Linux 4.13: loaded_mm, switch_mm ordering comment, leave_mm to init_mm"
 *   source="arch/x86/mm/tlb.c @ v4.13; seed 004 (+ side)"
 *   generation=linux-4.13
 *   expect=switch-vs-flush:2:holds,switch-vs-flush:3:holds,switch-vs-flush-local:2:holds
 *   expect=lazy-flush:2:holds,lazy-flush:3:holds,lazy-free-pgtables:2:holds,idle-leave-mm:2:holds
 *   expect=kernel-range-flush-global:2:holds,kernel-range-flush-global:3:holds,kernel-range-flush-global:2:holds@pge
 *   expect=kernel-range-flush-global:3:holds@pge,kernel-range-flush-all:2:holds@pge,kernel-range-flush-all:2:holds
 *   noop=trace_tlb_flush,count_vm_tlb_event,count_vm_tlb_events,inc_irq_stat,load_mm_cr4,switch_ldt
 *   link=common/smp-4.12-4.20.c,common/smp-calls-4.9-4.20.c,common/tlbflush-4.12-4.14.c,common/tlb-flush-all-4.12-6.18.c,common/tlb-kernel-range-4.13-4.20.c
 *   expect=switch-away-free-pgtables:2:holds,switch-away-free-pgtables:3:holds
 */
/*
 * Linux 4.13 arch/x86/mm/tlb.c, with enter_lazy_tlb() from asm/mmu_context.h: the "+" side
 * of seed 004 ("x86/mm: Rework lazy TLB to track the actual loaded mm"). Written for
 * tlbcheck in the kernel's shape and names; the comments are ours.
 *
 * No PCID: every CR3 write flushes the non-global TLB. Left out, because none of it touches
 * CR3, a TLB, a cpumask or a PTE: the LDT and CR4 reloads (listed as no-ops above), the
 * VMAP_STACK PGD sync, the UV flush path, tracing and VM event counters.
 */

#define flush_tlb_others(mask, info)	native_flush_tlb_others(mask, info)

void switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next,
			struct task_struct *tsk)
{
	struct mm_struct *real_prev = this_cpu_read(cpu_tlbstate.loaded_mm);
	unsigned cpu = smp_processor_id();

	this_cpu_write(cpu_tlbstate.state, TLBSTATE_OK);

	if (real_prev == next) {
		/*
		 * CR3 and the rest of the per-mm state always follow
		 * loaded_mm, so there is nothing to load; only check
		 * that our bit is still set.
		 */
		if (WARN_ON_ONCE(!cpumask_test_cpu(cpu, mm_cpumask(next))))
			cpumask_set_cpu(cpu, mm_cpumask(next));
		return;
	}

	this_cpu_write(cpu_tlbstate.loaded_mm, next);

	WARN_ON_ONCE(cpumask_test_cpu(cpu, mm_cpumask(next)));

	/*
	 * Ordering against flush_tlb_mm_range():
	 *
	 * (1) Our bit in mm_cpumask(next) must be visible before any TLB
	 *     fill from next's page tables. A flusher writes a PTE, then
	 *     reads the mask: it either sees our bit and sends us an IPI,
	 *     or its PTE store is visible to every walk we make after (2).
	 * (2) The walker may fill the TLB at any time once CR3 points at
	 *     next, and LOCK and MFENCE do not order it; only the
	 *     serializing CR3 write keeps those fills after (1).
	 */
	cpumask_set_cpu(cpu, mm_cpumask(next));	/* (1) */
	load_cr3(next->pgd);			/* (2) pairs with flush_tlb_mm_range (1) */

	/* No more flush IPIs for the mm we leave. */
	WARN_ON_ONCE(!cpumask_test_cpu(cpu, mm_cpumask(real_prev)) &&
		     real_prev != &init_mm);
	cpumask_clear_cpu(cpu, mm_cpumask(real_prev));

	load_mm_cr4(next);
	switch_ldt(real_prev, next);
}

void switch_mm(struct mm_struct *prev, struct mm_struct *next,
	       struct task_struct *tsk)
{
	unsigned long flags;

	local_irq_save(flags);
	switch_mm_irqs_off(prev, next, tsk);
	local_irq_restore(flags);
}

/* The scheduler runs a kernel thread on the mm it had: we only note that we are lazy. */
void enter_lazy_tlb(struct mm_struct *mm, struct task_struct *tsk)
{
	if (this_cpu_read(cpu_tlbstate.state) == TLBSTATE_OK)
		this_cpu_write(cpu_tlbstate.state, TLBSTATE_LAZY);
}

/*
 * A lazy CPU stops using the mm it borrowed by switching to init_mm; that also clears its
 * bit in the old mm's cpumask, so no further flush IPIs reach it.
 */
void leave_mm(int cpu)
{
	struct mm_struct *loaded_mm = this_cpu_read(cpu_tlbstate.loaded_mm);

	/* Lazy on init_mm: there are no user translations to drop. */
	if (loaded_mm == &init_mm)
		return;

	BUG_ON(this_cpu_read(cpu_tlbstate.state) == TLBSTATE_OK);

	switch_mm(NULL, &init_mm, NULL);
}

/*
 * Flush this CPU's TLB for f: a lazy CPU leaves the mm instead, otherwise the range page by
 * page or everything at once. Runs with interrupts off, locally or from the IPI.
 */
static void flush_tlb_func_common(const struct flush_tlb_info *f,
				  bool local, enum tlb_flush_reason reason)
{
	/* Not reentrant. */
	VM_WARN_ON(!irqs_disabled());

	if (this_cpu_read(cpu_tlbstate.state) != TLBSTATE_OK) {
		leave_mm(smp_processor_id());
		return;
	}

	if (f->end == TLB_FLUSH_ALL) {
		local_flush_tlb();
		trace_tlb_flush(reason, TLB_FLUSH_ALL);
	} else {
		unsigned long addr;
		unsigned long nr_pages = (f->end - f->start) >> PAGE_SHIFT;

		addr = f->start;
		while (addr < f->end) {
			__flush_tlb_single(addr);
			addr += PAGE_SIZE;
		}
		trace_tlb_flush(reason, nr_pages);
	}
}

static void flush_tlb_func_local(void *info, enum tlb_flush_reason reason)
{
	const struct flush_tlb_info *f = info;

	flush_tlb_func_common(f, true, reason);
}

/* The IPI handler: a flush of an mm that is not loaded here is not ours. */
static void flush_tlb_func_remote(void *info)
{
	const struct flush_tlb_info *f = info;

	inc_irq_stat(irq_tlb_count);

	if (f->mm && f->mm != this_cpu_read(cpu_tlbstate.loaded_mm))
		return;

	flush_tlb_func_common(f, false, TLB_REMOTE_SHOOTDOWN);
}

void native_flush_tlb_others(const struct cpumask *cpumask,
			     const struct flush_tlb_info *info)
{
	smp_call_function_many(cpumask, flush_tlb_func_remote,
			       (void *)info, 1);
}

void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, unsigned long vmflag)
{
	int cpu;

	struct flush_tlb_info info = {
		.mm = mm,
	};

	cpu = get_cpu();

	/*
	 * (1) The caller's PTE store must be visible before we read
	 * mm_cpumask(mm): otherwise a CPU that sets its bit and loads CR3
	 * after our read walks the old PTE and gets no IPI. Pairs with
	 * switch_mm_irqs_off (1)(2).
	 */
	smp_mb();	/* (1) synchronize with switch_mm */

	/* A short range goes page by page, anything longer flushes everything. */
	if ((end != TLB_FLUSH_ALL) &&
	    !(vmflag & VM_HUGETLB) &&
	    ((end - start) >> PAGE_SHIFT) <= tlb_single_page_flush_ceiling) {
		info.start = start;
		info.end = end;
	} else {
		info.start = 0UL;
		info.end = TLB_FLUSH_ALL;
	}

	if (mm == this_cpu_read(cpu_tlbstate.loaded_mm)) {
		VM_WARN_ON(irqs_disabled());
		local_irq_disable();
		flush_tlb_func_local(&info, TLB_LOCAL_MM_SHOOTDOWN);
		local_irq_enable();
	}

	if (cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids)
		flush_tlb_others(mm_cpumask(mm), &info);

	put_cpu();
}

/*
 * ---- kernel mappings: flush_tlb_all(), flush_tlb_kernel_range() (v4.13) ----
 * The same text as in other 4.x releases, so linked from common/: on_each_cpu()
 * (smp-4.12-4.20.c), the asm/tlbflush.h inlines __native_flush_tlb_global() and
 * __flush_tlb_all() (tlbflush-4.12-4.14.c), flush_tlb_all() and do_flush_tlb_all()
 * (tlb-flush-all-4.12-6.18.c), flush_tlb_kernel_range() and do_kernel_range_flush()
 * (tlb-kernel-range-4.13-4.20.c).
 */
