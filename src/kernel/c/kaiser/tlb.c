/* tlbcheck: id=kaiser-percpu-flush kind=base boot=kaiser
 *   title="KAISER 4.4/4.9 stable: per-cpu user CR3 variable, user PCID flushed on return to user"
 *   source="arch/x86/mm/tlb.c load_new_mm_cr3, arch/x86/mm/kaiser.c, asm/kaiser.h (4.4.110/4.9.75 stable); seed 000"
 *   generation=kaiser features=pcid,pti
 *   expect=pti-return-to-user:2:holds,pti-return-to-user:2:holds@invpcid,switch-vs-flush:2:holds
 *   expect=switch-vs-flush:2:holds@invpcid,lazy-flush:2:holds,lazy-free-pgtables:2:holds
 *   noop=trace_tlb_flush,count_vm_tlb_event,inc_irq_stat,load_mm_cr4,load_mm_ldt,switch_ldt
 *   link=common/smp-calls-4.9-4.20.c
 */
/*
 * KAISER in the 4.4/4.9 stable trees (Hugh Dickins' backport, Jan 2018; seed 000):
 * arch/x86/mm/tlb.c (the 4.9 stable text, in the 4.12 shape of cpu_tlbstate.state and
 * active_mm, with load_new_mm_cr3()), the asm/tlbflush.h flush primitives with their KAISER
 * checks, and kaiser_flush_tlb_on_return_to_user() from arch/x86/mm/kaiser.c, after "kaiser:
 * load_new_mm_cr3() let SWITCH_USER_CR3 flush user". Written for tlbcheck in the kernel's
 * shape and names; the comments are ours. The return to user (SWITCH_USER_CR3, asm/kaiser.h)
 * is assembly: it stays TypeScript glue (src/kernel/kaiser/entry.ts).
 *
 * One kernel PCID (0) and one user PCID (128) serve every mm, so each mm switch must flush
 * both: the kernel one by the CR3 write, the user one on the next return to user, where
 * SWITCH_USER_CR3 finds NOFLUSH cleared in the per-cpu x86_cr3_pcid_user.
 *
 * kaiser_enabled is X86_FEATURE_PTI. Global pages are off under KAISER, so the variants run
 * with PGE off. flush_tlb_mm_range() is written without its "goto out".
 */

#define kaiser_enabled	static_cpu_has(X86_FEATURE_PTI)
#define local_flush_tlb()	__native_flush_tlb()
#define __flush_tlb_single(addr)	__native_flush_tlb_single(addr)

/* ---- arch/x86/mm/kaiser.c ---- */

/* SWITCH_USER_CR3 will flush the user PCID: clear NOFLUSH in the per-cpu user CR3. (1) */
void kaiser_flush_tlb_on_return_to_user(void)
{
	if (this_cpu_has(X86_FEATURE_PCID))
		this_cpu_write(x86_cr3_pcid_user,
			       X86_CR3_PCID_USER_FLUSH | KAISER_SHADOW_PGD_OFFSET);
}

/* ---- asm/tlbflush.h ---- */

static inline void __native_flush_tlb(void)
{
	if (this_cpu_has(X86_FEATURE_INVPCID)) {
		/* Every PCID, the user one (128) too. */
		invpcid_flush_all_nonglobals();
		return;
	}

	preempt_disable();
	if (kaiser_enabled)
		kaiser_flush_tlb_on_return_to_user();
	native_write_cr3(native_read_cr3());
	preempt_enable();
}

static inline void __native_flush_tlb_single(unsigned long addr)
{
	if (!this_cpu_has(X86_FEATURE_INVPCID_SINGLE)) {
		if (kaiser_enabled)
			kaiser_flush_tlb_on_return_to_user();
		__invlpg(addr);
		return;
	}

	/* Flush the address out of both PCIDs. */
	if (kaiser_enabled)
		invpcid_flush_one(X86_CR3_PCID_ASID_USER, addr);
	invpcid_flush_one(X86_CR3_PCID_ASID_KERN, addr);
}

/* ---- arch/x86/mm/tlb.c ---- */

/*
 * (1) The user PCID is flushed, or marked for the exit, before any user access of the new
 *     mm: it is "reused for different tasks", so all of its entries must go on every change.
 * (2) write_cr3 without NOFLUSH flushes the kernel PCID; it is serializing and orders TLB
 *     fills after the caller's mm_cpumask write.
 */
static void load_new_mm_cr3(pgd_t *pgdir)
{
	unsigned long new_mm_cr3 = __pa(pgdir);

	if (kaiser_enabled)
		kaiser_flush_tlb_on_return_to_user();	/* (1) */

	write_cr3(new_mm_cr3);	/* (2) */
}

#define flush_tlb_others(mask, mm, start, end)	native_flush_tlb_others(mask, mm, start, end)

/*
 * Ordering against flush_tlb_mm_range():
 * (1) Our bit in mm_cpumask(next) is set before load_new_mm_cr3(next->pgd): the serializing CR3
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
		load_new_mm_cr3(next->pgd);	/* (1) pairs with flush_tlb_mm_range (1) */

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
			load_new_mm_cr3(next->pgd);	/* (2) use no freed page tables */
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
		load_new_mm_cr3(swapper_pg_dir);
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
