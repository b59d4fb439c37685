/* tlbcheck: id=linux-4.14 kind=base boot=pcid-4.14
 *   title="Linux 4.14: PCID with ctxs[]/ctx_id/tlb_gen, choose_new_asid, NOFLUSH CR3, partial vs full flush"
 *   source="arch/x86/mm/tlb.c, asm/tlbflush.h @ v4.14 (after b956575bed91); seed 001"
 *   generation=linux-4.14 features=pcid,pge setup-pcid=pge
 *   link=common/mmu_context-4.14.c,common/smp-4.12-4.20.c,common/smp-calls-4.9-4.20.c,common/tlbflush-4.12-4.14.c,common/tlb-flush-all-4.12-6.18.c
 *   link=common/tlb-kernel-range-4.13-4.20.c
 *   expect=switch-vs-flush:2:holds,switch-vs-flush-local:2:holds,lazy-flush:2:holds
 *   expect=lazy-free-pgtables:2:holds,lazy-free-pgtables:3:holds,asid-reuse:2:holds
 *   expect=concurrent-flushes:2:holds
 *   expect=mm-reuse:1:holds,mm-reuse:2:holds
 *   expect=mm-reuse:1:holds@-pcid,mm-reuse:2:violated:no-walk-through-freed-table@-pcid
 *   expect=kernel-range-flush-global:2:holds,kernel-range-flush-global:3:holds,kernel-range-flush-global:2:holds@invpcid
 *   expect=kernel-range-flush-global:2:holds@-pge,kernel-range-flush-all:2:holds,kernel-range-flush-all:2:holds@invpcid
 *   expect=kernel-range-flush-all:2:holds@-pge,kernel-range-flush-all:2:holds@-pcid/-pge
 *   noop=trace_tlb_flush,count_vm_tlb_event,count_vm_tlb_events,inc_irq_stat,load_mm_cr4,switch_ldt
 *   expect=switch-away-free-pgtables:2:violated:no-walk-through-freed-table,switch-away-free-pgtables:3:violated:no-walk-through-freed-table
 */
/*
 * Linux 4.14 arch/x86/mm/tlb.c (the release, after b956575bed91 "x86/mm: Flush more
 * aggressively in lazy TLB mode"), with inc_mm_tlb_gen() and tlb_defer_switch_to_init_mm()
 * from asm/tlbflush.h. Written for tlbcheck in the kernel's shape and names; the comments
 * are ours. Seed 001's generation.
 *
 * PCID: cpu_tlbstate.ctxs[] holds, per ASID slot, the ctx_id of the mm it caches and the
 * tlb_gen it has caught up to; CR3 is written with NOFLUSH when the slot is current. A lazy
 * CPU keeps its mm_cpumask bit and is switched to init_mm by the next flush IPI; with PCID
 * there is no lazy mode at all (enter_lazy_tlb switches to init_mm at once).
 *
 * The model has 2 ASID slots (TLB_NR_DYN_ASIDS is 6 in the kernel; see
 * src/kernel/common/asid.ts). Left out (no CR3, TLB, cpumask, tlb_gen or PTE in them): the
 * LDT and CR4 reloads, the VMAP_STACK PGD sync, the UV path, the DEBUG_VM CR3 check, tracing.
 */

#define flush_tlb_others(mask, info)	native_flush_tlb_others(mask, info)

static inline u64 inc_mm_tlb_gen(struct mm_struct *mm)
{
	/* LOCK XADD: also a full barrier, see flush_tlb_mm_range (1). */
	return atomic64_inc_return(&mm->context.tlb_gen);
}

static inline bool tlb_defer_switch_to_init_mm(void)
{
	/* With PCID, switching to init_mm is cheap: do it at once instead of going lazy. */
	return !static_cpu_has(X86_FEATURE_PCID);
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

void switch_mm(struct mm_struct *prev, struct mm_struct *next,
	       struct task_struct *tsk)
{
	unsigned long flags;

	local_irq_save(flags);
	switch_mm_irqs_off(prev, next, tsk);
	local_irq_restore(flags);
}

/*
 * Ordering against flush_tlb_mm_range():
 * (1) cpumask_set_cpu(next) (LOCK BTS) before reading next->context.tlb_gen: both sides are
 *     LOCKed, so either the flusher sees our bit and IPIs us, or we see its new tlb_gen
 *     and flush the slot.
 * (2) The CR3 write (serializing) after (1): walks of next start once our bit is visible.
 * (3) cpumask_clear_cpu(real_prev) before CR3: flushes of real_prev stop reaching us, which
 *     is safe for real_prev's TLB entries because switching back compares ctxs[asid].tlb_gen
 *     with its tlb_gen. It is not safe for walks: until the CR3 write our walker may still go
 *     through real_prev's tables, which a flusher that no longer sees us may free
 *     (switch-away-free-pgtables; mm-reuse without PCID; docs/design.md, "The switch-away
 *     window"). v4.13 cleared it after CR3.
 */
void switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next,
			struct task_struct *tsk)
{
	struct mm_struct *real_prev = this_cpu_read(cpu_tlbstate.loaded_mm);
	u16 prev_asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);
	unsigned cpu = smp_processor_id();
	u64 next_tlb_gen;

	this_cpu_write(cpu_tlbstate.is_lazy, false);

	if (real_prev == next) {
		VM_WARN_ON(this_cpu_read(cpu_tlbstate.ctxs[prev_asid].ctx_id) !=
			   next->context.ctx_id);

		/* A real mm stays loaded only with our bit set in its mask. */
		if (WARN_ON_ONCE(real_prev != &init_mm &&
				 !cpumask_test_cpu(cpu, mm_cpumask(next))))
			cpumask_set_cpu(cpu, mm_cpumask(next));

		/* A lazy CPU got every flush IPI: nothing to catch up. */
		return;
	} else {
		u16 new_asid;
		bool need_flush;

		cpumask_clear_cpu(cpu, mm_cpumask(real_prev));	/* (3) stop remote flushes */

		cpumask_set_cpu(cpu, mm_cpumask(next));		/* (1) start remote flushes */
		next_tlb_gen = atomic64_read(&next->context.tlb_gen);	/* (1) */

		choose_new_asid(next, next_tlb_gen, &new_asid, &need_flush);

		if (need_flush) {
			this_cpu_write(cpu_tlbstate.ctxs[new_asid].ctx_id, next->context.ctx_id);
			this_cpu_write(cpu_tlbstate.ctxs[new_asid].tlb_gen, next_tlb_gen);
			write_cr3(build_cr3(next->pgd, new_asid));	/* (2) */
		} else {
			/* The slot is current: keep its translations. */
			write_cr3(build_cr3_noflush(next->pgd, new_asid));	/* (2) */
		}

		this_cpu_write(cpu_tlbstate.loaded_mm, next);
		this_cpu_write(cpu_tlbstate.loaded_mm_asid, new_asid);
	}

	load_mm_cr4(next);
	switch_ldt(real_prev, next);
}

/* A kernel thread: go lazy, or (with PCID) switch to init_mm at once. */
void enter_lazy_tlb(struct mm_struct *mm, struct task_struct *tsk)
{
	if (this_cpu_read(cpu_tlbstate.loaded_mm) == &init_mm)
		return;

	if (tlb_defer_switch_to_init_mm())
		this_cpu_write(cpu_tlbstate.is_lazy, true);
	else
		switch_mm(NULL, &init_mm, NULL);
}

/*
 * (1) mm_tlb_gen is read before the flush and ctxs[asid].tlb_gen takes that value after it:
 *     every PTE change up to mm_tlb_gen was made before its XADD, so the serializing flush
 *     keeps no entry older than it.
 * (2) A partial flush only when f->new_tlb_gen == local_tlb_gen + 1 (no other flush pending
 *     here) and == mm_tlb_gen (none newer); otherwise the skipped generations' ranges are
 *     unknown and everything goes.
 */
static void flush_tlb_func_common(const struct flush_tlb_info *f,
				  bool local, enum tlb_flush_reason reason)
{
	struct mm_struct *loaded_mm = this_cpu_read(cpu_tlbstate.loaded_mm);
	u32 loaded_mm_asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);
	u64 mm_tlb_gen = atomic64_read(&loaded_mm->context.tlb_gen);	/* (1) */
	u64 local_tlb_gen = this_cpu_read(cpu_tlbstate.ctxs[loaded_mm_asid].tlb_gen);

	/* Not reentrant. */
	VM_WARN_ON(!irqs_disabled());

	if (unlikely(loaded_mm == &init_mm))
		return;

	if (this_cpu_read(cpu_tlbstate.is_lazy)) {
		/*
		 * Lazy: the paging-structure caches must go at least, or a
		 * speculative walk reads garbage; switching to init_mm costs
		 * about the same.
		 */
		switch_mm_irqs_off(NULL, &init_mm, NULL);
		return;
	}

	/* A concurrent flush already brought us up to date. */
	if (unlikely(local_tlb_gen == mm_tlb_gen))
		return;

	WARN_ON_ONCE(local_tlb_gen > mm_tlb_gen);
	WARN_ON_ONCE(f->new_tlb_gen > mm_tlb_gen);

	if (f->end != TLB_FLUSH_ALL &&
	    f->new_tlb_gen == local_tlb_gen + 1 &&
	    f->new_tlb_gen == mm_tlb_gen) {
		unsigned long addr;

		addr = f->start;
		while (addr < f->end) {
			__flush_tlb_single(addr);	/* (2) */
			addr += PAGE_SIZE;
		}
	} else {
		local_flush_tlb();
	}

	this_cpu_write(cpu_tlbstate.ctxs[loaded_mm_asid].tlb_gen, mm_tlb_gen);	/* (1) */
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

void native_flush_tlb_others(const struct cpumask *cpumask,
			     const struct flush_tlb_info *info)
{
	smp_call_function_many(cpumask, flush_tlb_func_remote,
			       (void *)info, 1);
}

/*
 * (1) inc_mm_tlb_gen() (LOCK XADD) before the reads of loaded_mm and mm_cpumask: it drains
 *     the caller's PTE stores, as 4.13's smp_mb() did. Pairs with switch_mm_irqs_off (1).
 */
void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, unsigned long vmflag)
{
	int cpu;

	struct flush_tlb_info info = {
		.mm = mm,
	};

	cpu = get_cpu();

	info.new_tlb_gen = inc_mm_tlb_gen(mm);	/* (1) synchronizes with switch_mm */

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
 * ---- kernel mappings: flush_tlb_all(), flush_tlb_kernel_range() (v4.14) ----
 * The same text as in other 4.x releases, so linked from common/: on_each_cpu()
 * (smp-4.12-4.20.c), the asm/tlbflush.h inlines __native_flush_tlb_global() and
 * __flush_tlb_all() (tlbflush-4.12-4.14.c), flush_tlb_all() and do_flush_tlb_all()
 * (tlb-flush-all-4.12-6.18.c), flush_tlb_kernel_range() and do_kernel_range_flush()
 * (tlb-kernel-range-4.13-4.20.c).
 */
