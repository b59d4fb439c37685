/* tlbcheck: id=linux-4.14-partial-on-gen-skip kind=bug base=linux-4.14 fixed-by=linux-4.14
 *   title="flush_tlb_func_common flushes partially although generations were skipped"
 *   source="flush_tlb_func_common (v4.14): the 'f->new_tlb_gen == local_tlb_gen + 1' condition, dropped"
 *   expect=concurrent-flushes:2:violated:no-stale-tlb-use,concurrent-flushes:3:violated:no-stale-tlb-use
 */
/*
 * flush_tlb_func_common() that flushes only its own range whenever its generation is the
 * newest, without checking that it is the only one pending: with two overlapping flushes
 * handled in reverse order, the older range is never flushed.
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

	/* The bug: no check that this is the only pending generation. */
	if (f->end != TLB_FLUSH_ALL &&
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
