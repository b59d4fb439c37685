/* tlbcheck: id=linux-6.18 kind=base boot=pcid-lazy-cpumask
 *   title="Linux 6.18: lazy mm_cpumask, should_flush_tlb, LOADED_MM_SWITCHING, tlb_gen early exits"
 *   source="arch/x86/mm/tlb.c @ v6.18 (with 83b0177a6c48, 'x86/mm: Fix SMP ordering in switch_mm_irqs_off()')"
 *   generation=linux-6.x features=pcid,pge shared-pcpu=loaded_mm,is_lazy setup-pcid=pge,invlpg-miss
 *   expect=switch-vs-flush:2:holds,switch-vs-flush-local:2:holds,lazy-flush:2:holds
 *   expect=lazy-free-pgtables:2:holds,asid-reuse:2:holds,concurrent-flushes:2:holds
 *   expect=mm-reuse:1:holds,mm-reuse:2:holds,mm-reuse:2:holds@invlpgb
 *   expect=broadcast-flush:2:holds@invlpgb,broadcast-flush:3:holds@invlpgb,broadcast-transition:2:holds@invlpgb,broadcast-transition:3:holds@invlpgb
 *   expect=kernel-range-flush-global:2:holds,kernel-range-flush-global:3:holds,kernel-range-flush-global:2:holds@invpcid
 *   expect=kernel-range-flush-global:2:holds@invlpg-miss,kernel-range-flush-global:3:holds@invlpg-miss,kernel-range-flush-global:2:holds@-pcid/-pge
 *   expect=kernel-range-flush-all:2:holds,kernel-range-flush-all:2:holds@invpcid,kernel-range-flush-all:2:holds@-pge,kernel-range-flush-all:2:holds@invlpg-miss
 *   expect=kernel-pgtable-free:2:holds,kernel-pgtable-free:2:holds@invpcid,collapse-flush:2:holds,collapse-flush:3:holds
 *   noop=trace_tlb_flush,count_vm_tlb_event,inc_irq_stat,cond_mitigation,cr4_update_pce_mm,switch_ldt,consider_global_asid,put_flush_tlb_info,mmu_notifier_arch_invalidate_secondary_tlbs,lockdep_assert_irqs_enabled
 *   link=mm/mmu_gather.c,mm/rmap.c,mm/memory.c,mm/madvise.c,mm/mremap.c,mm/mprotect.c,mm/gup.c,mm/mmap.c,linux-6.18/mmu_context.c
 *   link=common/tlb-flush-all-4.12-6.18.c,linux-6.18/smp.c
 *   expect=gup-fast-vs-free-table:2:holds,gup-fast-vs-free-table:3:holds,gup-fast-vs-free-table:2:holds@invlpgb,gup-fast-vs-free-table:3:holds@invlpgb
 *   expect=munmap-zap:2:holds,munmap-zap:3:holds,madvise-race:2:holds,mremap-vs-truncate:2:holds,reclaim-vs-mprotect:2:holds
 *   expect=munmap-free-table:2:holds,munmap-free-table:3:holds
 *   expect=preempt-cr3-up:1:holds
 *   noop=pagefault_disable,pagefault_enable,instrument_copy_from_user_before,instrument_copy_from_user_after
 *   expect=nmi-uaccess-switch:1:holds,nmi-uaccess-switch:2:holds
 *   expect=switch-away-free-pgtables:2:holds,switch-away-free-pgtables:3:holds
 */
/*
 * Linux v6.18 arch/x86/mm/tlb.c, with inc_mm_tlb_gen() from asm/tlbflush.h, including
 * "x86/mm: Fix SMP ordering in switch_mm_irqs_off()" (83b0177a6c48, Oct 2025). Written for
 * tlbcheck in the kernel's shape and names; the comments are ours.
 *
 * The lazy mm_cpumask: a CPU's bit stays set in the mm it switched away from, and the flush
 * handler clears stale bits; should_flush_tlb() decides on the sender from the target's
 * loaded_mm and is_lazy; LOADED_MM_SWITCHING; the handler's two tlb_gen early exits.
 *
 * INVLPGB (6.15+, with --features invlpgb): global ASIDs held by an mm on every CPU
 * (mm->context.global_asid), the transition of an mm's CPUs from their dynamic ASIDs to it
 * (asid_transition, finish_asid_transition()), and broadcast_tlb_flush() instead of IPIs.
 * mm_global_asid() and friends are from asm/tlbflush.h, the invlpgb_* helpers from
 * asm/tlb.h. A scenario hands the global ASID out at boot (CpuStart.globalAsid): the
 * allocator (use_global_asid(), allocate_global_asid(), reset_global_asid_space()) and
 * consider_global_asid()'s jiffies/pid sampling are not modelled; mm_free_global_asid() is in
 * linux-6.18/mmu_context.c with the other mm lifetime hooks.
 * Without the feature every one of these returns before its first shared access, so the
 * rows without INVLPGB run exactly the code they ran before.
 *
 * A file over 300 lines: it is one kernel file, arch/x86/mm/tlb.c, and its parts call each
 * other.
 *
 * Left out, as in the TypeScript generation: PTI user ASIDs and invalidate_other, LAM, IBPB (cond_mitigation),
 * CR4.PCE, the LDT, the DEBUG_VM cpumask and CR3 checks, tracing and statistics.
 * should_trim_cpumask() (jiffies: at most once a second per mm) is false.
 * get_flush_tlb_info() fills a local struct instead of the per-CPU one; only this CPU uses
 * it, and it lives until the flush returns, so the two do the same.
 */

#define flush_tlb_multi(mask, info)	native_flush_tlb_multi(mask, info)

struct new_asid {
	unsigned int asid : 16;
	unsigned int need_flush : 1;
};

static inline u64 inc_mm_tlb_gen(struct mm_struct *mm)
{
	/*
	 * Bump the generation: a LOCK XADD, so also a full barrier that
	 * orders the caller's PTE stores before what follows. Pairs with
	 * switch_mm_irqs_off (1)(2).
	 */
	return atomic64_inc_return(&mm->context.tlb_gen);
}

/* ---- INVLPGB: asm/tlbflush.h and asm/tlb.h (6.15+) ---- */

static inline bool is_dyn_asid(u16 asid)
{
	return asid < TLB_NR_DYN_ASIDS;
}

static inline bool is_global_asid(u16 asid)
{
	return !is_dyn_asid(asid);
}

static inline u16 mm_global_asid(struct mm_struct *mm)
{
	u16 asid;

	if (!cpu_feature_enabled(X86_FEATURE_INVLPGB))
		return 0;

	/* Pairs with the store that hands the ASID out: a plain load on x86. */
	asid = smp_load_acquire(&mm->context.global_asid);

	/* Either 0 or a global ASID, never a dynamic one. */
	VM_WARN_ON_ONCE(asid && is_dyn_asid(asid));

	return asid;
}

static inline bool mm_in_asid_transition(struct mm_struct *mm)
{
	if (!cpu_feature_enabled(X86_FEATURE_INVLPGB))
		return false;

	return mm && READ_ONCE(mm->context.asid_transition);
}

static inline void mm_clear_asid_transition(struct mm_struct *mm)
{
	WRITE_ONCE(mm->context.asid_transition, false);
}

/* asm/tlb.h: every address of one PCID, from addr on, nr pages; no globals. */
static inline void invlpgb_flush_user_nr_nosync(unsigned long pcid,
						unsigned long addr,
						u16 nr, bool stride)
{
	__invlpgb(0, pcid, addr, nr, stride, INVLPGB_FLAG_PCID | INVLPGB_FLAG_VA);
}

/* asm/tlb.h: every mapping of one PCID, not including globals. */
static inline void invlpgb_flush_single_pcid_nosync(unsigned long pcid)
{
	__invlpgb(0, pcid, 0, 1, PTE_STRIDE, INVLPGB_FLAG_PCID);
}

/*
 * Is the mm on its way from a CPU-local ASID to its global one, on this CPU?
 */
static bool mm_needs_global_asid(struct mm_struct *mm, u16 asid)
{
	u16 global_asid = mm_global_asid(mm);

	if (!cpu_feature_enabled(X86_FEATURE_INVLPGB))
		return false;

	if (global_asid && asid != global_asid)
		return true;

	return false;
}

static struct new_asid choose_new_asid(struct mm_struct *next, u64 next_tlb_gen)
{
	struct new_asid ns;
	u16 asid;

	if (!static_cpu_has(X86_FEATURE_PCID)) {
		ns.asid = 0;
		ns.need_flush = 1;
		return ns;
	}

	/*
	 * A global ASID is kept up to date by the broadcast flushes: it is
	 * never stale, so it needs no flush.
	 */
	if (cpu_feature_enabled(X86_FEATURE_INVLPGB)) {
		u16 global_asid = mm_global_asid(next);

		if (global_asid) {
			ns.asid = global_asid;
			ns.need_flush = 0;
			return ns;
		}
	}

	for (asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
		if (this_cpu_read(cpu_tlbstate.ctxs[asid].ctx_id) !=
		    next->context.ctx_id)
			continue;

		/* A slot of ours that missed flushes while unloaded must be flushed. */
		ns.asid = asid;
		ns.need_flush = (this_cpu_read(cpu_tlbstate.ctxs[asid].tlb_gen) < next_tlb_gen);
		return ns;
	}

	/* No slot for next on this CPU: take the next one round-robin, and flush it. */
	ns.asid = this_cpu_add_return(cpu_tlbstate.next_asid, 1) - 1;
	if (ns.asid >= TLB_NR_DYN_ASIDS) {
		ns.asid = 0;
		this_cpu_write(cpu_tlbstate.next_asid, 1);
	}
	ns.need_flush = true;

	return ns;
}

static void load_new_mm_cr3(pgd_t *pgdir, u16 new_asid, bool need_flush)
{
	unsigned long new_mm_cr3;

	if (need_flush)
		new_mm_cr3 = build_cr3(pgdir, new_asid);
	else
		new_mm_cr3 = build_cr3_noflush(pgdir, new_asid);

	/* Serializing: TLB fills of the new tables come after everything above. (3) */
	write_cr3(new_mm_cr3);
}

/*
 * Ordering against flush_tlb_mm_range() and should_flush_tlb():
 *
 * (1) Changing mm: the store of LOADED_MM_SWITCHING must be visible before we read
 *     next->context.tlb_gen. cpumask_set_cpu() is a LOCKed instruction; when our bit is
 *     already set (the lazy mm_cpumask leaves it set) an explicit smp_mb() does it. Either
 *     the flusher sees LOADED_MM_SWITCHING (or its bit) and IPIs us, or we see its new
 *     tlb_gen and flush the slot.
 * (2) Leaving lazy mode on the same mm: is_lazy = false, smp_mb(), then read tlb_gen; the
 *     same pairing against should_flush_tlb()'s read of is_lazy.
 * (3) CR3 after the tlb_gen read; loaded_mm = next after CR3.
 */
void switch_mm_irqs_off(struct mm_struct *unused, struct mm_struct *next,
			struct task_struct *tsk)
{
	struct mm_struct *prev = this_cpu_read(cpu_tlbstate.loaded_mm);
	u16 prev_asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);
	bool was_lazy = this_cpu_read(cpu_tlbstate_shared.is_lazy);
	unsigned cpu = smp_processor_id();
	struct new_asid ns;
	u64 next_tlb_gen;

	if (was_lazy)
		this_cpu_write(cpu_tlbstate_shared.is_lazy, false);	/* is_lazy = false (2) */

	if (prev == next) {
		if (mm_needs_global_asid(next, prev_asid)) {
			/*
			 * The mm moved to a global ASID: reload CR3 on it (the
			 * kernel's "goto reload_tlb"; the model's C has no goto).
			 */
			next_tlb_gen = atomic64_read(&next->context.tlb_gen);
			ns = choose_new_asid(next, next_tlb_gen);
		} else {
			/* The broadcast flushes keep a global ASID up to date. */
			if (is_global_asid(prev_asid))
				return;

			/* Same mm: nothing to do unless we were lazy and missed a flush. */
			if (!was_lazy)
				return;

			smp_mb();	/* (2) pairs with flush_tlb_mm_range (1) */
			next_tlb_gen = atomic64_read(&next->context.tlb_gen);	/* (2) */
			if (this_cpu_read(cpu_tlbstate.ctxs[prev_asid].tlb_gen) ==
					next_tlb_gen)
				return;

			/* The TLB went stale while we were lazy: flush on the way. */
			ns.asid = prev_asid;
			ns.need_flush = true;
		}
	} else {
		cond_mitigation(tsk);

		/* CR3, mm_cpumask and loaded_mm are about to disagree for a while. */
		this_cpu_write(cpu_tlbstate.loaded_mm, LOADED_MM_SWITCHING);	/* (1) */
		barrier();

		/* Get flush IPIs for next from now on, with a full barrier either way. */
		if (next != &init_mm && !cpumask_test_cpu(cpu, mm_cpumask(next)))
			cpumask_set_cpu(cpu, mm_cpumask(next));	/* LOCK BTS (1) */
		else
			smp_mb();	/* (1) pairs with flush_tlb_mm_range (1) */

		next_tlb_gen = atomic64_read(&next->context.tlb_gen);	/* (1) */

		ns = choose_new_asid(next, next_tlb_gen);
	}

	if (ns.need_flush) {
		this_cpu_write(cpu_tlbstate.ctxs[ns.asid].ctx_id, next->context.ctx_id);
		this_cpu_write(cpu_tlbstate.ctxs[ns.asid].tlb_gen, next_tlb_gen);
		load_new_mm_cr3(next->pgd, ns.asid, true);
	} else {
		load_new_mm_cr3(next->pgd, ns.asid, false);
	}

	barrier();	/* (3) CR3 before loaded_mm */

	this_cpu_write(cpu_tlbstate.loaded_mm, next);
	this_cpu_write(cpu_tlbstate.loaded_mm_asid, ns.asid);
}

/* A kernel thread keeps CR3 and its mm_cpumask bit: we only note that we are lazy. */
void enter_lazy_tlb(struct mm_struct *mm, struct task_struct *tsk)
{
	if (this_cpu_read(cpu_tlbstate.loaded_mm) == &init_mm)
		return;

	this_cpu_write(cpu_tlbstate_shared.is_lazy, true);
}

/*
 * The flush, locally or from the IPI.
 * (1) First early exit: new_tlb_gen <= local_tlb_gen, every flush up to it is done here.
 * (2) mm_tlb_gen is read as late as possible, before the flush; ctxs[asid].tlb_gen takes that
 *     value after it. A partial flush only when exactly one generation is pending.
 */
static void flush_tlb_func(void *info)
{
	const struct flush_tlb_info *f = info;
	struct mm_struct *loaded_mm = this_cpu_read(cpu_tlbstate.loaded_mm);
	u32 loaded_mm_asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);
	bool local = smp_processor_id() == f->initiating_cpu;
	u64 local_tlb_gen;
	u64 mm_tlb_gen;

	/* Not reentrant. */
	VM_WARN_ON(!irqs_disabled());

	if (!local) {
		inc_irq_stat(irq_tlb_count);
		count_vm_tlb_event(NR_TLB_REMOTE_FLUSH_RECEIVED);
	}

	/* A stale bit of the lazy mm_cpumask brought us here: clear it. */
	if (f->mm && f->mm != loaded_mm) {
		cpumask_clear_cpu(raw_smp_processor_id(), mm_cpumask(f->mm));
		return;
	}

	if (unlikely(loaded_mm == &init_mm))
		return;

	/* A straggler of an ASID transition: move to the global ASID now. */
	if (mm_needs_global_asid(loaded_mm, loaded_mm_asid)) {
		switch_mm_irqs_off(NULL, loaded_mm, NULL);
		loaded_mm_asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);
	}

	/* INVLPGB keeps a global ASID up to date: nothing to flush here. */
	if (is_global_asid(loaded_mm_asid))
		return;

	if (this_cpu_read(cpu_tlbstate_shared.is_lazy)) {
		/*
		 * Lazy: at least the paging-structure caches must go, or a
		 * speculative walk reads garbage. Switching to init_mm costs
		 * about the same, so do that.
		 */
		switch_mm_irqs_off(NULL, &init_mm, NULL);
		return;
	}

	local_tlb_gen = this_cpu_read(cpu_tlbstate.ctxs[loaded_mm_asid].tlb_gen);

	if (unlikely(f->new_tlb_gen != TLB_GENERATION_INVALID &&
		     f->new_tlb_gen <= local_tlb_gen))
		return;	/* (1) */

	mm_tlb_gen = atomic64_read(&loaded_mm->context.tlb_gen);	/* (2) */

	/* Another flush already brought us up to date. */
	if (unlikely(local_tlb_gen == mm_tlb_gen))
		return;

	WARN_ON_ONCE(local_tlb_gen > mm_tlb_gen);
	WARN_ON_ONCE(f->new_tlb_gen > mm_tlb_gen);

	if (f->end != TLB_FLUSH_ALL &&
	    f->new_tlb_gen == local_tlb_gen + 1 &&
	    f->new_tlb_gen == mm_tlb_gen) {
		unsigned long addr = f->start;

		while (addr < f->end) {
			flush_tlb_one_user(addr);	/* (2) */
			addr += 1UL << f->stride_shift;
		}
	} else {
		flush_tlb_local();
	}

	/* Both paths flushed everything up to mm_tlb_gen. */
	this_cpu_write(cpu_tlbstate.ctxs[loaded_mm_asid].tlb_gen, mm_tlb_gen);	/* (2) */
}

/*
 * On the sender: does cpu need the IPI? Plain reads of its loaded_mm, then its is_lazy.
 * Pairs with switch_mm_irqs_off (1)(2).
 */
static bool should_flush_tlb(int cpu, void *data)
{
	struct mm_struct *loaded_mm = per_cpu(cpu_tlbstate.loaded_mm, cpu);
	struct flush_tlb_info *info = data;

	/* A lazy CPU flushes at its next context switch. */
	if (per_cpu(cpu_tlbstate_shared.is_lazy, cpu))
		return false;

	/* No mm: a flush of everything (arch_tlbbatch_flush), whatever the CPU runs. */
	if (!info->mm)
		return true;

	/* In the middle of a switch: it may run either mm. */
	if (loaded_mm == LOADED_MM_SWITCHING)
		return true;

	if (loaded_mm == info->mm)
		return true;

	/* A stale bit: IPI it now and then, so that the handler clears it. */
	if (info->trim_cpumask)
		return true;

	return false;
}

void native_flush_tlb_multi(const struct cpumask *cpumask,
			    const struct flush_tlb_info *info)
{
	/*
	 * Freed page tables: every CPU in the mask, lazy ones too, or a
	 * lazy CPU keeps walking through its paging-structure caches into
	 * the freed tables.
	 */
	if (info->freed_tables || mm_in_asid_transition(info->mm))
		on_each_cpu_mask(cpumask, flush_tlb_func, (void *)info, true);
	else
		on_each_cpu_cond_mask(should_flush_tlb, flush_tlb_func,
				      (void *)info, true, cpumask);
}

/*
 * Some CPUs of the mm may still run it on their dynamic ASID (asid_transition): the
 * broadcast flush of the global PCID does not reach those entries. Send them the IPI
 * flush, which also moves them to the global ASID (flush_tlb_func). Once every CPU that
 * runs the mm is on the global ASID, the transition is over.
 */
static void finish_asid_transition(struct flush_tlb_info *info)
{
	struct mm_struct *mm = info->mm;
	int bc_asid = mm_global_asid(mm);
	int cpu;

	if (!mm_in_asid_transition(mm))
		return;

	/* for_each_cpu(cpu, mm_cpumask(mm)) */
	for (cpu = cpumask_next(-1, mm_cpumask(mm)); cpu < nr_cpu_ids;
	     cpu = cpumask_next(cpu, mm_cpumask(mm))) {
		/* A CPU in the middle of a switch may come out on a stale ASID: wait. */
		while (READ_ONCE(per_cpu(cpu_tlbstate.loaded_mm, cpu)) == LOADED_MM_SWITCHING)
			cpu_relax();

		if (READ_ONCE(per_cpu(cpu_tlbstate.loaded_mm, cpu)) != mm)
			continue;

		/* A straggler: the IPI flushes it and moves it over. */
		if (READ_ONCE(per_cpu(cpu_tlbstate.loaded_mm_asid, cpu)) != bc_asid) {
			flush_tlb_multi(mm_cpumask(info->mm), info);
			return;
		}
	}

	/* Every CPU that runs the mm is on the global ASID. */
	mm_clear_asid_transition(mm);
}

/*
 * (B1) inc_mm_tlb_gen() (LOCK XADD) in the caller drained our PTE stores: INVLPGB is weakly
 *      ordered and would not wait for them.
 * (B2) The INVLPGBs only start the invalidation on each CPU; __tlbsync() waits until every
 *      one of ours is done everywhere, before the flush returns.
 */
static void broadcast_tlb_flush(struct flush_tlb_info *info)
{
	bool pmd = info->stride_shift == PMD_SHIFT;
	unsigned long asid = mm_global_asid(info->mm);
	unsigned long addr = info->start;
	unsigned long nr;

	if (info->end == TLB_FLUSH_ALL) {
		invlpgb_flush_single_pcid_nosync(kern_pcid(asid));	/* (B1) */
		if (cpu_feature_enabled(X86_FEATURE_PTI))
			invlpgb_flush_single_pcid_nosync(user_pcid(asid));
	} else do {
		nr = 1;

		if (info->stride_shift <= PMD_SHIFT) {
			nr = (info->end - addr) >> info->stride_shift;
			/* clamp_val(nr, 1, invlpgb_count_max) */
			if (nr < 1)
				nr = 1;
			if (nr > invlpgb_count_max)
				nr = invlpgb_count_max;
		}

		invlpgb_flush_user_nr_nosync(kern_pcid(asid), addr, nr, pmd);	/* (B1) */
		if (cpu_feature_enabled(X86_FEATURE_PTI))
			invlpgb_flush_user_nr_nosync(user_pcid(asid), addr, nr, pmd);

		addr += nr << info->stride_shift;
	} while (addr < info->end);

	finish_asid_transition(info);

	/* Wait for the INVLPGBs kicked off above to finish. (B2) */
	__tlbsync();
}

static struct flush_tlb_info get_flush_tlb_info(struct mm_struct *mm,
			unsigned long start, unsigned long end,
			unsigned int stride_shift, bool freed_tables,
			u64 new_tlb_gen)
{
	struct flush_tlb_info info;

	/* Past the ceiling, one full flush is cheaper. */
	if ((end - start) >> stride_shift > tlb_single_page_flush_ceiling) {
		start = 0;
		end = TLB_FLUSH_ALL;
	}

	info.start		= start;
	info.end		= end;
	info.mm			= mm;
	info.stride_shift	= stride_shift;
	info.freed_tables	= freed_tables;
	info.new_tlb_gen	= new_tlb_gen;
	info.initiating_cpu	= smp_processor_id();
	info.trim_cpumask	= 0;

	return info;
}

/*
 * (1) inc_mm_tlb_gen() (LOCK XADD) drains the caller's PTE stores before the reads of
 *     mm_cpumask, loaded_mm and is_lazy. Pairs with switch_mm_irqs_off (1)(2).
 */
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

	/* A flush that only this CPU needs does not go through the cross-call. */
	if (mm_global_asid(mm)) {
		broadcast_tlb_flush(info);
	} else if (cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids) {
		info->trim_cpumask = should_trim_cpumask(mm);
		flush_tlb_multi(mm_cpumask(mm), info);
		consider_global_asid(mm);
	} else if (mm == this_cpu_read(cpu_tlbstate.loaded_mm)) {
		lockdep_assert_irqs_enabled();
		local_irq_disable();
		flush_tlb_func(info);
		local_irq_enable();
	}

	put_flush_tlb_info();
	put_cpu();
}

/* ---- kernel mappings: flush_tlb_all(), flush_tlb_kernel_range() (v6.18) ---- */

/* asm/tlb.h: addr..addr+nr pages, including globals, in every PCID (6.15+). */
static inline void invlpgb_flush_addr_nosync(unsigned long addr, u16 nr)
{
	__invlpgb(0, 0, addr, nr, PTE_STRIDE, INVLPGB_FLAG_INCLUDE_GLOBAL);
}

/* asm/tlb.h: everything, including globals, in every PCID, and wait for it (6.15+). */
static inline void invlpgb_flush_all(void)
{
	preempt_disable();
	__invlpgb(0, 0, 0, 1, PTE_STRIDE, INVLPGB_FLAG_INCLUDE_GLOBAL);
	__tlbsync();
	preempt_enable();
}

/*
 * INVLPG of a kernel address. Without PTI the kernel maps itself with global PTEs, and
 * INVLPG drops a global translation whatever PCID it was filled in (SDM 4.10.4.1): enough
 * for every address space. With PTI the other ASIDs would need invalidate_other (PTI is
 * not modelled in this generation). The Alder Lake / Raptor Lake erratum breaks the first
 * sentence while PCID is on: setup_pcid() (boot) turns PCID off there (ce0b15d11ad8).
 */
void flush_tlb_one_kernel(unsigned long addr)
{
	flush_tlb_one_user(addr);

	if (!static_cpu_has(X86_FEATURE_PTI))
		return;

	this_cpu_write(cpu_tlbstate.invalidate_other, true);
}

/*
 * asm/tlbflush.h __native_tlb_flush_global() and arch/x86/mm/tlb.c native_flush_tlb_global():
 * INVPCID type 2 where the CPU has it (all PCIDs, globals too; fine with PCIDE 0 or 1),
 * otherwise toggle CR4.PGE with IRQs off, which drops every entry of every PCID.
 */
void native_flush_tlb_global(void)
{
	unsigned long cr4, flags;

	if (static_cpu_has(X86_FEATURE_INVPCID)) {
		invpcid_flush_all();
		return;
	}

	raw_local_irq_save(flags);
	cr4 = this_cpu_read(cpu_tlbstate.cr4);
	native_write_cr4(cr4 ^ X86_CR4_PGE);
	native_write_cr4(cr4);
	raw_local_irq_restore(flags);
}

/*
 * Everything, globals included, on this CPU. Without PGE there are no global entries, and
 * setup_pcid() has turned PCID off (660da7c9228f), so reloading CR3 is a total flush.
 */
void __flush_tlb_all(void)
{
	VM_WARN_ON_ONCE(preemptible());

	if (cpu_feature_enabled(X86_FEATURE_PGE))
		native_flush_tlb_global();
	else
		flush_tlb_local();
}

/* do_flush_tlb_all(), the same text in v4.13-v6.18, is linked from common/tlb-flush-all-4.12-6.18.c. */

/* Replaces the linked v4.12-v4.20 flush_tlb_all(). */
void flush_tlb_all(void)
{
	count_vm_tlb_event(NR_TLB_REMOTE_FLUSH);

	/* INVLPGB where the CPU has it, else the cross-call. */
	if (cpu_feature_enabled(X86_FEATURE_INVLPGB))
		invlpgb_flush_all();
	else
		on_each_cpu(do_flush_tlb_all, NULL, 1);
}

/*
 * (K1) INVLPGB only starts the invalidation on each CPU; __tlbsync() waits for every one of
 *      ours, so the flush returns only when no CPU can use the old translation.
 */
static void invlpgb_kernel_range_flush(struct flush_tlb_info *info)
{
	unsigned long addr, nr;

	for (addr = info->start; addr < info->end; addr += nr << PAGE_SHIFT) {
		nr = (info->end - addr) >> PAGE_SHIFT;
		/* clamp_val(nr, 1, invlpgb_count_max): one INVLPGB covers a bounded range. */
		if (nr < 1)
			nr = 1;
		if (nr > invlpgb_count_max)
			nr = invlpgb_count_max;
		invlpgb_flush_addr_nosync(addr, nr);
	}
	__tlbsync();	/* (K1) */
}

static void do_kernel_range_flush(void *info)
{
	struct flush_tlb_info *f = info;
	unsigned long addr;

	/* One INVLPG per page. */
	for (addr = f->start; addr < f->end; addr += PAGE_SIZE)
		flush_tlb_one_kernel(addr);
}

static void kernel_tlb_flush_all(struct flush_tlb_info *info)
{
	if (cpu_feature_enabled(X86_FEATURE_INVLPGB))
		invlpgb_flush_all();
	else
		on_each_cpu(do_flush_tlb_all, NULL, 1);
}

static void kernel_tlb_flush_range(struct flush_tlb_info *info)
{
	if (cpu_feature_enabled(X86_FEATURE_INVLPGB))
		invlpgb_kernel_range_flush(info);
	else
		on_each_cpu(do_kernel_range_flush, info, 1);
}

void flush_tlb_kernel_range(unsigned long start, unsigned long end)
{
	struct flush_tlb_info *info;

	preempt_disable();

	info = get_flush_tlb_info(NULL, start, end, PAGE_SHIFT, false,
				  TLB_GENERATION_INVALID);

	if (info->end == TLB_FLUSH_ALL)
		kernel_tlb_flush_all(info);
	else
		kernel_tlb_flush_range(info);

	put_flush_tlb_info();
	preempt_enable();
}

/* ---- arch/x86/mm/pgtable.c (v6.18): freeing a kernel page table for a huge mapping ---- */

/*
 * pmd_free_pte_page(), as in 4.20 (5e0fb5df2ee6): (P1) every CPU's paging-structure caches
 * are invalidated before the PTE page is freed; with INVLPGB, flush_tlb_kernel_range()
 * broadcasts invlpgb_flush_addr_nosync() (not FINAL_ONLY: it drops the cached upper entries
 * too) and waits for it with TLBSYNC. Simplified: the ptdesc destructor is a plain free.
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

/* ---- asm/tlbflush.h flush_tlb_range() (v6.18) ---- */

/*
 * flush_tlb_range(vma, start, end) is a macro over flush_tlb_mm_range(). (R1) It always says
 * freed_tables: a caller may zap a pmd that points to a page table together with its PTEs
 * (collapse_pte_mapped_thp -> pmdp_collapse_flush), and then lazy CPUs, whose speculative
 * walks may go through the old pmd, must be flushed too (3ef938c35035, CVE-2025-22045; with
 * INVLPGB it also keeps the broadcast from invalidating final translations only).
 * Simplified: a function of the vma's mm (vmas are not modelled; no hugetlb vma, so the
 * stride is PAGE_SHIFT).
 */
void flush_tlb_range(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	flush_tlb_mm_range(mm, start, end, PAGE_SHIFT, true);	/* (R1) */
}

/*
 * The perf NMI handler's read of user memory: nmi_uaccess_okay() (arch/x86/mm/tlb.c, v6.18;
 * introduced by 4012e77a903d) and copy_from_user_nmi() (arch/x86/lib/usercopy.c, v6.18). User
 * memory is read only when loaded_mm is current->mm; switch_mm_irqs_off() sets loaded_mm to
 * LOADED_MM_SWITCHING before it writes CR3. Left out: the VM_WARN_ON_ONCE comparing
 * __pa(current_mm->pgd) with CR3 (the invariant access-through-own-mm checks that at the read).
 */
bool nmi_uaccess_okay(void)
{
	struct mm_struct *loaded_mm = this_cpu_read(cpu_tlbstate.loaded_mm);
	struct mm_struct *current_mm = current->mm;

	VM_WARN_ON_ONCE(!loaded_mm);

	/* A cheap stand-in for comparing current_mm->pgd with CR3. */
	if (loaded_mm != current_mm)
		return false;

	return true;
}

unsigned long
copy_from_user_nmi(void *to, const void __user *from, unsigned long n)
{
	unsigned long ret;

	if (!__access_ok(from, n))
		return n;

	if (!nmi_uaccess_okay())
		return n;

	/* Page faults off, whatever context calls us. */
	pagefault_disable();
	instrument_copy_from_user_before(to, from, n);
	ret = raw_copy_from_user(to, from, n);
	instrument_copy_from_user_after(to, from, n, ret);
	pagefault_enable();

	return ret;
}
