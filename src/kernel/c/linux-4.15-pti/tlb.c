/* tlbcheck: id=linux-4.15-pti kind=base boot=pti
 *   title="Linux 4.15 PTI: kernel/user PCID pairs, user_pcid_flush_mask, invalidate_other"
 *   source="arch/x86/mm/tlb.c, arch/x86/include/asm/tlbflush.h, arch/x86/entry/calling.h @ v4.15; seed 001"
 *   generation=linux-4.15-pti features=pcid,invpcid,pge,pti
 *   link=common/mmu_context-4.14.c,common/smp-4.12-4.20.c,common/smp-calls-4.9-4.20.c,common/tlb-kernel-range-4.13-4.20.c
 *   config=CONFIG_PROVE_LOCKING,CONFIG_PAGE_TABLE_ISOLATION
 *   expect=kernel-range-flush:2:holds,kernel-range-flush:2:holds@-invpcid,pti-return-to-user:2:holds
 *   expect=pti-return-to-user:2:holds@-invpcid,switch-vs-flush:2:holds,lazy-flush:2:holds
 *   expect=lazy-free-pgtables:2:holds
 *   noop=trace_tlb_flush,count_vm_tlb_event,count_vm_tlb_events,inc_irq_stat,load_mm_cr4,switch_ldt
 *   expect=switch-away-free-pgtables:2:violated:no-walk-through-freed-table
 */
/*
 * Linux 4.15 arch/x86/mm/tlb.c with PTI (seed 001), with the asm/tlbflush.h inlines it uses
 * (__native_flush_tlb, __flush_tlb_one_user, __flush_tlb_one_kernel, __flush_tlb_all,
 * invalidate_other_asid); kernel/smp.c's on_each_cpu() and flush_tlb_kernel_range(), the same
 * text in v4.13-v4.20, are linked from common/ (link=). Written for tlbcheck in the
 * kernel's shape and names; the comments are ours. The return to user (SWITCH_TO_USER_CR3,
 * entry_64.S) is assembly: it stays TypeScript glue (src/kernel/linux-4.15-pti/entry.ts).
 *
 * Each mm has a kernel PCID (asid + 1) and a user PCID (with bit 11 set). A flush of the user
 * PCID is deferred to the next exit to user through user_pcid_flush_mask, unless INVPCID can
 * reach it at once. Kernel mappings are not global, so a kernel-range flush also marks every
 * other ASID (invalidate_other) to be flushed before its next use.
 *
 * TLB_NR_DYN_ASIDS is 3 here, not 6: the per-CPU layout has three slots, and the scenarios use
 * at most three mms per CPU. Left out, as in the TypeScript generation: IBPB, VMAP_STACK,
 * CR4 and LDT reloads, last_ctx_id, tracing, the DEBUG_VM CR3 check, arch_tlbbatch_flush.
 */

#define TLB_NR_DYN_ASIDS	3
#define flush_tlb_others(mask, info)	native_flush_tlb_others(mask, info)
#define local_flush_tlb()	__native_flush_tlb()

/* ---- asm/tlbflush.h ---- */

static inline void invalidate_other_asid(void)
{
	this_cpu_write(cpu_tlbstate.invalidate_other, true);
}

/* Flush this ASID's kernel PCID now, and its user PCID on the way out to user. */
static inline void __native_flush_tlb(void)
{
	invalidate_user_asid(this_cpu_read(cpu_tlbstate.loaded_mm_asid));
	native_write_cr3(__native_read_cr3());
}

/*
 * INVLPG reaches the current (kernel) PCID. The user PCID is flushed at once with INVPCID,
 * or marked for a full flush on the next exit without it.
 */
static inline void __flush_tlb_one_user(unsigned long addr)
{
	u32 loaded_mm_asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);

	__invlpg(addr);

	if (!static_cpu_has(X86_FEATURE_PTI))
		return;

	if (!this_cpu_has(X86_FEATURE_INVPCID_SINGLE))
		invalidate_user_asid(loaded_mm_asid);
	else
		invpcid_flush_one(user_pcid(loaded_mm_asid), addr);
}

/*
 * A kernel address: with PTI its PTE is not global, so INVLPG only reached the current PCID;
 * every other cached ASID must be flushed before it is used again. (seed 001: split
 * __flush_tlb_one into a user and a kernel flavour)
 */
static inline void __flush_tlb_one_kernel(unsigned long addr)
{
	__flush_tlb_one_user(addr);

	if (!static_cpu_has(X86_FEATURE_PTI))
		return;

	invalidate_other_asid();
}

static inline void __native_flush_tlb_global(void)
{
	unsigned long cr4, flags;

	if (static_cpu_has(X86_FEATURE_INVPCID)) {
		invpcid_flush_all();
		return;
	}

	/* Toggling CR4.PGE drops everything, global entries too. */
	raw_local_irq_save(flags);
	cr4 = this_cpu_read(cpu_tlbstate.cr4);
	native_write_cr4(cr4 ^ X86_CR4_PGE);
	native_write_cr4(cr4);
	raw_local_irq_restore(flags);
}

static inline void __flush_tlb_all(void)
{
	if (boot_cpu_has(X86_FEATURE_PGE))
		__native_flush_tlb_global();
	else
		__native_flush_tlb();
}

static inline u64 inc_mm_tlb_gen(struct mm_struct *mm)
{
	/* LOCK XADD: also a full barrier, see flush_tlb_mm_range (1). */
	return atomic64_inc_return(&mm->context.tlb_gen);
}

static inline bool tlb_defer_switch_to_init_mm(void)
{
	return !static_cpu_has(X86_FEATURE_PCID);
}

/* ---- kernel/smp.c: on_each_cpu() is linked from common/smp-4.12-4.20.c ---- */

/* ---- arch/x86/mm/tlb.c ---- */

/* Forget every other cached ASID: ctx_id 0 names no mm, so each is flushed on next use. */
static void clear_asid_other(void)
{
	u16 asid;

	if (!static_cpu_has(X86_FEATURE_PTI)) {
		WARN_ON_ONCE(1);
		return;
	}

	for (asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
		/* The current one was kept up to date by the flush itself. */
		if (asid == this_cpu_read(cpu_tlbstate.loaded_mm_asid))
			continue;
		this_cpu_write(cpu_tlbstate.ctxs[asid].ctx_id, 0);
	}
	this_cpu_write(cpu_tlbstate.invalidate_other, false);
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

	if (this_cpu_read(cpu_tlbstate.invalidate_other))
		clear_asid_other();

	for (asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
		if (this_cpu_read(cpu_tlbstate.ctxs[asid].ctx_id) !=
		    next->context.ctx_id)
			continue;

		*new_asid = asid;
		*need_flush = (this_cpu_read(cpu_tlbstate.ctxs[asid].tlb_gen) <
			       next_tlb_gen);
		return;
	}

	/* No slot for next here: recycle one round-robin. */
	*new_asid = this_cpu_add_return(cpu_tlbstate.next_asid, 1) - 1;
	if (*new_asid >= TLB_NR_DYN_ASIDS) {
		*new_asid = 0;
		this_cpu_write(cpu_tlbstate.next_asid, 1);
	}
	*need_flush = true;
}

/*
 * (1) write_cr3 is serializing: callers rely on it to order TLB fills after their
 *     mm_cpumask writes.
 * (2) A flushing load also marks the user PCID, flushed on the next exit to user.
 */
static void load_new_mm_cr3(pgd_t *pgdir, u16 new_asid, bool need_flush)
{
	unsigned long new_mm_cr3;

	if (need_flush) {
		invalidate_user_asid(new_asid);		/* (2) */
		new_mm_cr3 = build_cr3(pgdir, new_asid);
	} else {
		new_mm_cr3 = build_cr3_noflush(pgdir, new_asid);
	}

	write_cr3(new_mm_cr3);	/* (1) */
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
 * (1) cpumask_set_cpu(next) (LOCK BTS) before reading next->context.tlb_gen; with the
 *     flusher's LOCK XADD before its mask read, either it IPIs us or we see its generation.
 * (2) The CR3 write is serializing: no fill from next before (1).
 * (3) loaded_mm is written after CR3, with IRQs off, so no flush IPI sees the gap.
 */
void switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next,
			struct task_struct *tsk)
{
	struct mm_struct *real_prev = this_cpu_read(cpu_tlbstate.loaded_mm);
	unsigned cpu = smp_processor_id();
	u64 next_tlb_gen;

	/* flush_tlb_func_* must not run concurrently with us. */
	if (IS_ENABLED(CONFIG_PROVE_LOCKING))
		WARN_ON_ONCE(!irqs_disabled());

	this_cpu_write(cpu_tlbstate.is_lazy, false);

	if (real_prev == next) {
		/* A real mm stays loaded only with our bit set. */
		if (WARN_ON_ONCE(real_prev != &init_mm &&
				 !cpumask_test_cpu(cpu, mm_cpumask(next))))
			cpumask_set_cpu(cpu, mm_cpumask(next));

		return;
	} else {
		u16 new_asid;
		bool need_flush;

		/* Stop remote flushes for the previous mm. */
		if (real_prev != &init_mm)
			cpumask_clear_cpu(cpu, mm_cpumask(real_prev));

		if (next != &init_mm)
			cpumask_set_cpu(cpu, mm_cpumask(next));	/* (1) */
		next_tlb_gen = atomic64_read(&next->context.tlb_gen);	/* (1) */

		choose_new_asid(next, next_tlb_gen, &new_asid, &need_flush);

		if (need_flush) {
			this_cpu_write(cpu_tlbstate.ctxs[new_asid].ctx_id, next->context.ctx_id);
			this_cpu_write(cpu_tlbstate.ctxs[new_asid].tlb_gen, next_tlb_gen);
			load_new_mm_cr3(next->pgd, new_asid, true);	/* (2) */
		} else {
			load_new_mm_cr3(next->pgd, new_asid, false);	/* (2) */
		}

		this_cpu_write(cpu_tlbstate.loaded_mm, next);	/* (3) */
		this_cpu_write(cpu_tlbstate.loaded_mm_asid, new_asid);
	}

	load_mm_cr4(next);
	switch_ldt(real_prev, next);
}

void enter_lazy_tlb(struct mm_struct *mm, struct task_struct *tsk)
{
	if (this_cpu_read(cpu_tlbstate.loaded_mm) == &init_mm)
		return;

	if (tlb_defer_switch_to_init_mm())
		this_cpu_write(cpu_tlbstate.is_lazy, true);
	else
		switch_mm(NULL, &init_mm, NULL);
}

/* mm_tlb_gen is read before the flush; the serializing flush orders later fills after it. */
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
			__flush_tlb_one_user(addr);
			addr += PAGE_SIZE;
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

void native_flush_tlb_others(const struct cpumask *cpumask,
			     const struct flush_tlb_info *info)
{
	smp_call_function_many(cpumask, flush_tlb_func_remote,
			       (void *)info, 1);
}

/* (1) inc_mm_tlb_gen() (LOCK XADD) synchronizes with switch_mm_irqs_off (1). */
void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, unsigned long vmflag)
{
	int cpu;

	struct flush_tlb_info info = {
		.mm = mm,
	};

	cpu = get_cpu();

	info.new_tlb_gen = inc_mm_tlb_gen(mm);	/* (1) */

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

/* v4.15's also counts the event (count_vm_tlb_event, a no-op here). */
static void do_flush_tlb_all(void *info)
{
	__flush_tlb_all();
}

/*
 * Replaces the linked v4.13/v4.14 do_kernel_range_flush(). v4.15 itself calls __flush_tlb_one(),
 * which the rename just after v4.15 made __flush_tlb_one_kernel(), the name used here (seed 001).
 */
static void do_kernel_range_flush(void *info)
{
	struct flush_tlb_info *f = info;
	unsigned long addr;

	/* One INVLPG per page, and the other ASIDs marked stale. */
	for (addr = f->start; addr < f->end; addr += PAGE_SIZE)
		__flush_tlb_one_kernel(addr);
}

/* flush_tlb_kernel_range() (the same text in v4.13-v4.20) is linked from common/tlb-kernel-range-4.13-4.20.c. */
