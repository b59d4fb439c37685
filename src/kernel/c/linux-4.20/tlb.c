/* tlbcheck: id=linux-4.20 kind=base boot=pcid-4.20
 *   title="Linux 4.20: is_lazy, freed_tables, on_each_cpu_cond_mask(tlb_is_not_lazy), was_lazy + smp_mb"
 *   source="arch/x86/mm/tlb.c @ v4.20 (native_flush_tlb_others, switch_mm_irqs_off); seed 003"
 *   generation=linux-4.20 features=pcid,pge shared-pcpu=is_lazy setup-pcid=pge
 *   link=common/mmu_context-4.14.c,common/smp-4.12-4.20.c,common/smp-calls-4.9-4.20.c,common/tlb-flush-all-4.12-6.18.c,common/tlb-kernel-range-4.13-4.20.c,common/smp-cond-4.19-4.20.c
 *   expect=switch-vs-flush:2:holds,switch-vs-flush-local:2:holds,lazy-flush:2:holds
 *   expect=lazy-free-pgtables:2:holds,lazy-free-pgtables:3:holds,asid-reuse:2:holds
 *   expect=concurrent-flushes:2:holds
 *   expect=kernel-range-flush-global:2:holds,kernel-range-flush-global:3:holds,kernel-range-flush-global:2:holds@invpcid
 *   expect=kernel-range-flush-global:2:holds@-pge,kernel-range-flush-all:2:holds,kernel-range-flush-all:2:holds@invpcid
 *   expect=kernel-range-flush-all:2:holds@-pge,kernel-range-flush-all:2:holds@-pcid/-pge
 *   expect=kernel-pgtable-free:2:holds,kernel-pgtable-free:3:holds,kernel-pgtable-free:2:holds@invpcid,kernel-pgtable-free:2:holds@-pcid/-pge
 *   noop=trace_tlb_flush,count_vm_tlb_event,count_vm_tlb_events,inc_irq_stat,load_mm_cr4,switch_ldt,cond_ibpb
 *   noop=pagefault_disable,pagefault_enable
 *   expect=nmi-uaccess-switch:1:holds,nmi-uaccess-switch:2:holds
 *   expect=mm-reuse:1:holds,mm-reuse:2:violated:no-walk-through-freed-table,mm-reuse:3:violated:no-walk-through-freed-table
 *   expect=switch-away-free-pgtables:2:violated:no-walk-through-freed-table,switch-away-free-pgtables:3:violated:no-walk-through-freed-table
 */
/*
 * Linux 4.20 arch/x86/mm/tlb.c, with inc_mm_tlb_gen() from asm/tlbflush.h. Written for
 * tlbcheck in the kernel's shape and names; the comments are ours. Seed 003's generation.
 *
 * Lazy TLB is cpu_tlbstate.is_lazy, which the flusher reads (tlb_is_not_lazy): lazy CPUs
 * get no IPI unless page tables were freed (freed_tables). A lazy CPU coming back to its mm
 * reads tlb_gen behind an smp_mb() and catches up (the was_lazy path). The rest is 4.14's.
 *
 * Left out, as in the TypeScript generation: IBPB (cond_ibpb), CR4, the LDT, PTI's user-ASID
 * invalidation (PTI is off), the DEBUG_VM cpumask and CR3 checks, tracing and statistics.
 * The model has 2 ASID slots (see src/kernel/common/asid.ts).
 */

#define flush_tlb_others(mask, info)	native_flush_tlb_others(mask, info)

static inline u64 inc_mm_tlb_gen(struct mm_struct *mm)
{
	/* LOCK XADD: also a full barrier, see flush_tlb_mm_range (1). */
	return atomic64_inc_return(&mm->context.tlb_gen);
}

static void choose_new_asid(struct mm_struct *next, u64 next_tlb_gen,
			    u16 *new_asid, bool *need_flush)
{
	u16 asid;

	if (!static_cpu_has(X86_FEATURE_PCID)) {
		*new_asid = 0;
		*need_flush = true;
		return;
	}

	for (asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
		if (this_cpu_read(cpu_tlbstate.ctxs[asid].ctx_id) !=
		    next->context.ctx_id)
			continue;

		/* Our slot: flush it only if it missed flushes while unloaded. */
		*new_asid = asid;
		*need_flush = (this_cpu_read(cpu_tlbstate.ctxs[asid].tlb_gen) <
			       next_tlb_gen);
		return;
	}

	/* No slot for next here: recycle one round-robin, and flush it. */
	*new_asid = this_cpu_add_return(cpu_tlbstate.next_asid, 1) - 1;
	if (*new_asid >= TLB_NR_DYN_ASIDS) {
		*new_asid = 0;
		this_cpu_write(cpu_tlbstate.next_asid, 1);
	}
	*need_flush = true;
}

static void load_new_mm_cr3(pgd_t *pgdir, u16 new_asid, bool need_flush)
{
	unsigned long new_mm_cr3;

	if (need_flush)
		new_mm_cr3 = build_cr3(pgdir, new_asid);
	else
		new_mm_cr3 = build_cr3_noflush(pgdir, new_asid);

	/* Serializing: fills of the new tables come after the mm_cpumask writes. */
	write_cr3(new_mm_cr3);
}

void switch_mm(struct mm_struct *prev, struct mm_struct *next,
	       struct task_struct *tsk)
{
	unsigned long flags;

	local_irq_save(flags);
	switch_mm_irqs_off(prev, next, tsk);
	local_irq_restore(flags);
}

/*
 * Ordering against flush_tlb_mm_range() and tlb_is_not_lazy():
 * (1) was_lazy path: is_lazy = false must be visible before we read next->context.tlb_gen,
 *     by smp_mb(). Either the flusher's read of our is_lazy sees false and IPIs us, or we see
 *     its new tlb_gen and flush. Without it the store waits in our buffer while we read the
 *     old tlb_gen.
 * (2) Changing mm, as in 4.14: LOCK BTS on mm_cpumask(next) before the tlb_gen read; CR3
 *     after both.
 * (3) As in 4.14, our bit in mm_cpumask(real_prev) is cleared before the CR3 write: in
 *     between, a flusher of real_prev that frees a page table sends us no IPI although our
 *     walker can still reach the table (mm-reuse, switch-away-free-pgtables: violated;
 *     docs/design.md, "The switch-away window"; linux-4.20-clear-prev-after-cr3 clears it
 *     after the CR3 write).
 */
void switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next,
			struct task_struct *tsk)
{
	struct mm_struct *real_prev = this_cpu_read(cpu_tlbstate.loaded_mm);
	u16 prev_asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);
	bool was_lazy = this_cpu_read(cpu_tlbstate.is_lazy);
	unsigned cpu = smp_processor_id();
	u64 next_tlb_gen;
	bool need_flush;
	u16 new_asid;

	this_cpu_write(cpu_tlbstate.is_lazy, false);	/* (1) */

	if (real_prev == next) {
		VM_WARN_ON(this_cpu_read(cpu_tlbstate.ctxs[prev_asid].ctx_id) !=
			   next->context.ctx_id);

		/* Lazy or not, our bit stays set; is_lazy tells the flusher the rest. */
		if (WARN_ON_ONCE(real_prev != &init_mm &&
				 !cpumask_test_cpu(cpu, mm_cpumask(next))))
			cpumask_set_cpu(cpu, mm_cpumask(next));

		/* Another thread of the same process: nothing to flush. */
		if (!was_lazy)
			return;

		smp_mb();	/* (1) pairs with flush_tlb_mm_range (1) */
		next_tlb_gen = atomic64_read(&next->context.tlb_gen);	/* (1) */
		if (this_cpu_read(cpu_tlbstate.ctxs[prev_asid].tlb_gen) ==
				next_tlb_gen)
			return;

		/* The TLB went stale while we were lazy: flush below. */
		new_asid = prev_asid;
		need_flush = true;
	} else {
		cond_ibpb(tsk);

		/* Kernel threads never get flush IPIs for init_mm: skip its mask. */
		if (real_prev != &init_mm)
			cpumask_clear_cpu(cpu, mm_cpumask(real_prev));

		if (next != &init_mm)
			cpumask_set_cpu(cpu, mm_cpumask(next));	/* (2) start remote flushes */
		next_tlb_gen = atomic64_read(&next->context.tlb_gen);	/* (2) */

		choose_new_asid(next, next_tlb_gen, &new_asid, &need_flush);

		/* For nmi_uaccess_okay(): CR3 is about to change. */
		this_cpu_write(cpu_tlbstate.loaded_mm, LOADED_MM_SWITCHING);
		barrier();
	}

	if (need_flush) {
		this_cpu_write(cpu_tlbstate.ctxs[new_asid].ctx_id, next->context.ctx_id);
		this_cpu_write(cpu_tlbstate.ctxs[new_asid].tlb_gen, next_tlb_gen);
		load_new_mm_cr3(next->pgd, new_asid, true);
	} else {
		load_new_mm_cr3(next->pgd, new_asid, false);
	}

	barrier();	/* CR3 before loaded_mm */

	this_cpu_write(cpu_tlbstate.loaded_mm, next);
	this_cpu_write(cpu_tlbstate.loaded_mm_asid, new_asid);

	load_mm_cr4(next);
	switch_ldt(real_prev, next);
}

/* A kernel thread: stay on the mm with our bit set, and say that we are lazy. */
void enter_lazy_tlb(struct mm_struct *mm, struct task_struct *tsk)
{
	if (this_cpu_read(cpu_tlbstate.loaded_mm) == &init_mm)
		return;

	this_cpu_write(cpu_tlbstate.is_lazy, true);
}

/* As in 4.14: read mm_tlb_gen before the flush, record it after; partial only when safe. */
static void flush_tlb_func_common(const struct flush_tlb_info *f,
				  bool local, enum tlb_flush_reason reason)
{
	struct mm_struct *loaded_mm = this_cpu_read(cpu_tlbstate.loaded_mm);
	u32 loaded_mm_asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);
	u64 mm_tlb_gen = atomic64_read(&loaded_mm->context.tlb_gen);
	u64 local_tlb_gen = this_cpu_read(cpu_tlbstate.ctxs[loaded_mm_asid].tlb_gen);

	/* Not reentrant. */
	VM_WARN_ON(!irqs_disabled());

	if (unlikely(loaded_mm == &init_mm))
		return;

	if (this_cpu_read(cpu_tlbstate.is_lazy)) {
		/* Lazy and still IPIed (tables were freed): leave the mm. */
		switch_mm_irqs_off(NULL, &init_mm, NULL);
		return;
	}

	if (unlikely(local_tlb_gen == mm_tlb_gen))
		return;

	WARN_ON_ONCE(local_tlb_gen > mm_tlb_gen);
	WARN_ON_ONCE(f->new_tlb_gen > mm_tlb_gen);

	if (f->end != TLB_FLUSH_ALL &&
	    f->new_tlb_gen == local_tlb_gen + 1 &&
	    f->new_tlb_gen == mm_tlb_gen) {
		unsigned long addr = f->start;

		while (addr < f->end) {
			__flush_tlb_one_user(addr);
			addr += 1UL << f->stride_shift;
		}
	} else {
		local_flush_tlb();
	}

	this_cpu_write(cpu_tlbstate.ctxs[loaded_mm_asid].tlb_gen, mm_tlb_gen);
}

static void flush_tlb_func_local(void *info, enum tlb_flush_reason reason)
{
	const struct flush_tlb_info *f = info;

	flush_tlb_func_common(f, true, reason);
}

static void flush_tlb_func_remote(void *info)
{
	const struct flush_tlb_info *f = info;

	inc_irq_stat(irq_tlb_count);

	if (f->mm && f->mm != this_cpu_read(cpu_tlbstate.loaded_mm))
		return;

	flush_tlb_func_common(f, false, TLB_REMOTE_SHOOTDOWN);
}

/* On the sender: a plain read of the target's is_lazy. Pairs with switch_mm_irqs_off (1). */
static bool tlb_is_not_lazy(int cpu, void *data)
{
	return !per_cpu(cpu_tlbstate.is_lazy, cpu);
}

void native_flush_tlb_others(const struct cpumask *cpumask,
			     const struct flush_tlb_info *info)
{
	/*
	 * Lazy CPUs flush at their next switch and can be skipped, unless
	 * page tables are being freed: a lazy CPU's speculative walks would
	 * go through what used to be page tables. (seed 003)
	 */
	if (info->freed_tables)
		smp_call_function_many(cpumask, flush_tlb_func_remote,
				       (void *)info, 1);
	else
		on_each_cpu_cond_mask(tlb_is_not_lazy, flush_tlb_func_remote,
				      (void *)info, 1, GFP_ATOMIC, cpumask);
}

/*
 * (1) inc_mm_tlb_gen() (LOCK XADD) drains the caller's PTE stores before the reads of
 *     loaded_mm, mm_cpumask and (in tlb_is_not_lazy) is_lazy. Pairs with switch_mm_irqs_off.
 */
void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, unsigned int stride_shift,
			bool freed_tables)
{
	int cpu;

	struct flush_tlb_info info = {
		.mm = mm,
		.stride_shift = stride_shift,
		.freed_tables = freed_tables,
	};

	cpu = get_cpu();

	info.new_tlb_gen = inc_mm_tlb_gen(mm);	/* (1) */

	if ((end != TLB_FLUSH_ALL) &&
	    ((end - start) >> stride_shift) <= tlb_single_page_flush_ceiling) {
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
 * ---- kernel mappings: flush_tlb_all(), flush_tlb_kernel_range() (v4.20) ----
 * on_each_cpu() (kernel/smp.c), flush_tlb_all(), do_flush_tlb_all() and
 * flush_tlb_kernel_range() have the same text as in the other 4.x releases and are linked from
 * common/ (smp-4.12-4.20.c, tlb-flush-all-4.12-6.18.c, tlb-kernel-range-4.13-4.20.c). What
 * 4.20 has of its own is below: the asm/tlbflush.h inlines, and do_kernel_range_flush(),
 * which replaces the linked v4.13/v4.14 one.
 */

/*
 * asm/tlbflush.h __native_flush_tlb_global(): INVPCID type 2 where the CPU has it (every
 * PCID, globals too), else toggle CR4.PGE with IRQs off, which drops every entry.
 * Simplified: v4.20 writes cr4 ^ X86_CR4_PGE (since v4.15) where this clears the bit as
 * v4.12-v4.14 did (common/tlbflush-4.12-4.14.c); the same write, because this runs only
 * with PGE on (__flush_tlb_all() checks it) and so with CR4.PGE set.
 */
static inline void __native_flush_tlb_global(void)
{
	unsigned long cr4, flags;

	if (static_cpu_has(X86_FEATURE_INVPCID)) {
		invpcid_flush_all();
		return;
	}

	raw_local_irq_save(flags);
	cr4 = this_cpu_read(cpu_tlbstate.cr4);
	native_write_cr4(cr4 & ~X86_CR4_PGE);	/* clear PGE */
	native_write_cr4(cr4);			/* and set it again: everything is gone */
	raw_local_irq_restore(flags);
}

/*
 * asm/tlbflush.h __flush_tlb_one_kernel() (4.16+): INVLPG, which without PTI drops the global
 * kernel translation in every PCID; with PTI kernel PTEs are not global and every other ASID
 * is marked to be flushed before its next use (PTI is not modelled in this generation).
 */
static inline void __flush_tlb_one_kernel(unsigned long addr)
{
	__flush_tlb_one_user(addr);

	if (!static_cpu_has(X86_FEATURE_PTI))
		return;

	this_cpu_write(cpu_tlbstate.invalidate_other, true);
}

/*
 * asm/tlbflush.h __flush_tlb_all(): everything, globals too, on this CPU: by the global
 * flush with PGE, else by a CR3 reload.
 * Without PGE there are no global entries and setup_pcid() has turned PCID off (660da7c9228f),
 * so the reload is a total flush: with PCID and no PGE it would reach only the current PCID.
 * Left out: v4.20's VM_WARN_ON_ONCE(preemptible()) at the top (every caller here runs with
 * preemption off: the cross-call, or on_each_cpu()'s local call).
 */
static inline void __flush_tlb_all(void)
{
	if (boot_cpu_has(X86_FEATURE_PGE))
		__native_flush_tlb_global();
	else
		__flush_tlb();
}

/* One INVLPG per page: kernel mappings are global (no PTI), and INVLPG drops a global translation in every PCID. */
static void do_kernel_range_flush(void *info)
{
	struct flush_tlb_info *f = info;
	unsigned long addr;

	for (addr = f->start; addr < f->end; addr += PAGE_SIZE)
		__flush_tlb_one_kernel(addr);
}

/* ---- arch/x86/mm/pgtable.c (v4.20): freeing a kernel page table for a huge mapping ---- */

/*
 * pmd_free_pte_page(): the huge ioremap/vmalloc path replaces a pmd that points to a PTE
 * page. (P1) Every CPU's paging-structure caches may still hold the pmd: a walk through it
 * would read the freed page, so they must be invalidated before the free. INVLPG drops all
 * paging-structure-cache entries of the current PCID, and flush_tlb_kernel_range() runs it
 * on every CPU (5e0fb5df2ee6, "x86/mm: Add TLB purge to free pmd/pte page interfaces").
 * Simplified: the pmd_none() check of the caller and the ptdesc destructor are left out.
 */
int pmd_free_pte_page(pmd_t *pmd, unsigned long addr)
{
	pte_t *pte;

	pte = (pte_t *)pmd_page_vaddr(*pmd);
	pmd_clear(pmd);

	flush_tlb_kernel_range(addr, addr + PAGE_SIZE - 1);	/* (P1) */

	free_page((unsigned long)pte);

	return 1;
}
/*
 * The perf NMI handler's read of user memory (4012e77a903d, "x86/nmi: Fix NMI uaccess race
 * against CR3 switching"): nmi_uaccess_okay() from asm/tlbflush.h and copy_from_user_nmi()
 * from arch/x86/lib/usercopy.c, v4.20. An NMI may hit switch_mm_irqs_off() between its CR3
 * write and the scheduler's update of current: user memory is read only when loaded_mm is
 * current->mm, and switch_mm_irqs_off() sets loaded_mm to LOADED_MM_SWITCHING before it
 * writes CR3. Left out: the VM_WARN_ON_ONCE comparing current_mm->pgd with CR3 (the
 * invariant access-through-own-mm checks that property at the read itself).
 */
static inline bool nmi_uaccess_okay(void)
{
	struct mm_struct *loaded_mm = this_cpu_read(cpu_tlbstate.loaded_mm);
	struct mm_struct *current_mm = current->mm;

	VM_WARN_ON_ONCE(!loaded_mm);

	/* loaded_mm is LOADED_MM_SWITCHING while CR3 changes. */
	if (loaded_mm != current_mm)
		return false;

	return true;
}

unsigned long
copy_from_user_nmi(void *to, const void __user *from, unsigned long n)
{
	unsigned long ret;

	if (__range_not_ok(from, n, TASK_SIZE))
		return n;

	if (!nmi_uaccess_okay())
		return n;

	/* Page faults off, whatever context calls us. */
	pagefault_disable();
	ret = __copy_from_user_inatomic(to, from, n);
	pagefault_enable();

	return ret;
}
