/* tlbcheck: id=linux-4.12 kind=base boot=active_mm
 *   title="Linux 4.12: active_mm, TLBSTATE_LAZY, leave_mm from the flush IPI"
 *   source="arch/x86/mm/tlb.c @ v4.12 (torvalds/linux ce27374fabf5); seed 004 (- side)"
 *   generation=linux-4.12
 *   expect=switch-vs-flush:2:holds,switch-vs-flush:3:holds,switch-vs-flush-local:2:holds
 *   expect=lazy-flush:2:holds,lazy-free-pgtables:2:holds,idle-leave-mm:2:holds
 *   expect=kernel-range-flush-global:2:holds,kernel-range-flush-global:3:holds,kernel-range-flush-global:2:holds@pge
 *   expect=kernel-range-flush-global:3:holds@pge,kernel-range-flush-all:2:holds@pge,kernel-range-flush-all:2:holds
 *   noop=trace_tlb_flush,count_vm_tlb_event,inc_irq_stat,load_mm_cr4,load_mm_ldt,switch_ldt
 *   link=common/smp-4.12-4.20.c,common/smp-calls-4.9-4.20.c,common/tlbflush-4.12-4.14.c,common/tlb-flush-all-4.12-6.18.c
 *   expect=preempt-cr3-up:1:holds,preempt-cr3-up:2:holds
 *   expect=switch-away-free-pgtables:2:holds
 */
/*
 * Linux 4.12 arch/x86/mm/tlb.c (torvalds/linux ce27374fabf5, the last change before the
 * 4.13 rework), with enter_lazy_tlb() from asm/mmu_context.h: the "-" side of seed 004.
 * Written for tlbcheck in the kernel's shape and names; the comments are ours.
 *
 * cpu_tlbstate.active_mm and TLBSTATE_LAZY: leave_mm() clears our bit and loads
 * swapper_pg_dir but keeps active_mm; switching back to the same mm reloads CR3 when the bit
 * had been cleared. No PCID. flush_tlb_mm_range() is written without its "goto out" (the
 * subset has no goto); the control flow is the same.
 *
 * Left out (no CR3, TLB, cpumask or PTE in them): the LDT and CR4 reloads, the VMAP_STACK
 * PGD sync, the UV path, tracing and VM event counters.
 */

#define flush_tlb_others(mask, mm, start, end)	native_flush_tlb_others(mask, mm, start, end)

/*
 * Ordering against flush_tlb_mm_range():
 * (1) Our bit in mm_cpumask(next) is set before load_cr3(next->pgd): the serializing CR3
 *     write keeps TLB fills from next after the bit is visible. Pairs with
 *     flush_tlb_mm_range (1).
 * (2) Back on the same mm after leave_mm() cleared our bit: set it again, then reload CR3 so
 *     that no freed page table is used; the same pairing.
 */
void switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next,
			struct task_struct *tsk)
{
	unsigned cpu = smp_processor_id();

	if (likely(prev != next)) {
		this_cpu_write(cpu_tlbstate.state, TLBSTATE_OK);
		this_cpu_write(cpu_tlbstate.active_mm, next);
		cpumask_set_cpu(cpu, mm_cpumask(next));	/* (1) */
		load_cr3(next->pgd);			/* (1) pairs with flush_tlb_mm_range (1) */

		/* No more flush IPIs for the previous mm. */
		cpumask_clear_cpu(cpu, mm_cpumask(prev));

		load_mm_cr4(next);
		switch_ldt(prev, next);
	} else {
		this_cpu_write(cpu_tlbstate.state, TLBSTATE_OK);
		BUG_ON(this_cpu_read(cpu_tlbstate.active_mm) != next);

		if (!cpumask_test_cpu(cpu, mm_cpumask(next))) {
			/* We were lazy and leave_mm() stopped flush IPIs: reload CR3. */
			cpumask_set_cpu(cpu, mm_cpumask(next));	/* (2) */
			load_cr3(next->pgd);			/* (2) use no freed page tables */
			load_mm_cr4(next);
			load_mm_ldt(next);
		}
	}
}

/* Entering a kernel thread: the mm stays loaded, we only become lazy. */
void enter_lazy_tlb(struct mm_struct *mm, struct task_struct *tsk)
{
	if (this_cpu_read(cpu_tlbstate.state) == TLBSTATE_OK)
		this_cpu_write(cpu_tlbstate.state, TLBSTATE_LAZY);
}

/* A lazy CPU stops taking flush IPIs for its borrowed mm and runs on swapper_pg_dir. */
void leave_mm(int cpu)
{
	struct mm_struct *active_mm = this_cpu_read(cpu_tlbstate.active_mm);

	BUG_ON(this_cpu_read(cpu_tlbstate.state) == TLBSTATE_OK);

	if (cpumask_test_cpu(cpu, mm_cpumask(active_mm))) {
		cpumask_clear_cpu(cpu, mm_cpumask(active_mm));
		load_cr3(swapper_pg_dir);
	}
}

/* The flush IPI handler. */
static void flush_tlb_func(void *info)
{
	struct flush_tlb_info *f = info;

	inc_irq_stat(irq_tlb_count);

	if (f->flush_mm && f->flush_mm != this_cpu_read(cpu_tlbstate.active_mm))
		return;

	if (this_cpu_read(cpu_tlbstate.state) == TLBSTATE_OK) {
		if (f->flush_end == TLB_FLUSH_ALL) {
			local_flush_tlb();
			trace_tlb_flush(TLB_REMOTE_SHOOTDOWN, TLB_FLUSH_ALL);
		} else {
			unsigned long addr;

			addr = f->flush_start;
			while (addr < f->flush_end) {
				__flush_tlb_single(addr);
				addr += PAGE_SIZE;
			}
			trace_tlb_flush(TLB_REMOTE_SHOOTDOWN, 0);
		}
	} else
		leave_mm(smp_processor_id());
}

void native_flush_tlb_others(const struct cpumask *cpumask,
			     struct mm_struct *mm, unsigned long start,
			     unsigned long end)
{
	struct flush_tlb_info info;

	info.flush_mm = mm;
	info.flush_start = start;
	info.flush_end = end;

	smp_call_function_many(cpumask, flush_tlb_func, &info, 1);
}

/*
 * (1) The caller's PTE store is ordered before the read of mm_cpumask(mm): by smp_mb() when
 *     mm is not ours or we are a kernel thread, else by the local flush, whose INVLPG or CR3
 *     write is serializing. Pairs with switch_mm_irqs_off (1)(2).
 */
void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, unsigned long vmflag)
{
	unsigned long addr;
	/* A remote flush is a full flush unless we flushed a range here. */
	unsigned long base_pages_to_flush = TLB_FLUSH_ALL;

	preempt_disable();
	if (current->active_mm != mm) {
		smp_mb();	/* (1) synchronize with switch_mm */
	} else if (!current->mm) {
		leave_mm(smp_processor_id());
		smp_mb();	/* (1) synchronize with switch_mm */
	} else {
		if ((end != TLB_FLUSH_ALL) && !(vmflag & VM_HUGETLB))
			base_pages_to_flush = (end - start) >> PAGE_SHIFT;

		/* Both branches serialize: (1) */
		if (base_pages_to_flush > tlb_single_page_flush_ceiling) {
			base_pages_to_flush = TLB_FLUSH_ALL;
			local_flush_tlb();
		} else {
			for (addr = start; addr < end; addr += PAGE_SIZE)
				__flush_tlb_single(addr);
		}
		trace_tlb_flush(TLB_LOCAL_MM_SHOOTDOWN, base_pages_to_flush);
	}

	if (base_pages_to_flush == TLB_FLUSH_ALL) {
		start = 0UL;
		end = TLB_FLUSH_ALL;
	}
	if (cpumask_any_but(mm_cpumask(mm), smp_processor_id()) < nr_cpu_ids)
		flush_tlb_others(mm_cpumask(mm), mm, start, end);
	preempt_enable();
}

/*
 * ---- kernel mappings: flush_tlb_all(), flush_tlb_kernel_range() (v4.12) ----
 * on_each_cpu() (kernel/smp.c), the asm/tlbflush.h inlines __native_flush_tlb_global() and
 * __flush_tlb_all(), and flush_tlb_all() are the same in v4.12 as in the later 4.x releases:
 * they are linked from common/ (smp-4.12-4.20.c, tlbflush-4.12-4.14.c,
 * tlb-flush-all-4.12-6.18.c). What 4.12 has of its own is below.
 */

/*
 * Before the v4.13 rework a lazy CPU also leaves its borrowed mm here (this replaces the
 * linked v4.13+ do_flush_tlb_all()).
 */
static void do_flush_tlb_all(void *info)
{
	count_vm_tlb_event(NR_TLB_REMOTE_FLUSH_RECEIVED);
	__flush_tlb_all();
	if (this_cpu_read(cpu_tlbstate.state) == TLBSTATE_LAZY)
		leave_mm(smp_processor_id());
}

/* One INVLPG per page: without PCID INVLPG drops the translation, global or not. */
static void do_kernel_range_flush(void *info)
{
	struct flush_tlb_info *f = info;
	unsigned long addr;

	for (addr = f->flush_start; addr < f->flush_end; addr += PAGE_SIZE)
		__flush_tlb_single(addr);
}

void flush_tlb_kernel_range(unsigned long start, unsigned long end)
{
	/* Past the single-page ceiling, as for a user flush, one full flush is cheaper. */
	if (end == TLB_FLUSH_ALL ||
	    (end - start) > tlb_single_page_flush_ceiling << PAGE_SHIFT) {
		on_each_cpu(do_flush_tlb_all, NULL, 1);
	} else {
		struct flush_tlb_info info;

		info.flush_start = start;
		info.flush_end = end;
		on_each_cpu(do_kernel_range_flush, &info, 1);
	}
}
