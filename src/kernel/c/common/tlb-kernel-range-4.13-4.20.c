/*
 * flush_tlb_kernel_range() and its cross-call do_kernel_range_flush(), from
 * arch/x86/mm/tlb.c. Linked by linux-4.13, linux-4.14, linux-4.15-pti and linux-4.20 (link=
 * in their headers); each base's own tlb.c is linked after this file and replaces a function
 * of the same name. Written for tlbcheck in the kernel's shape and names; the comments are
 * ours.
 *
 * flush_tlb_kernel_range(): the same text in v4.13 through v4.20. (v4.12 names the range
 * flush_start/flush_end, and linux-4.12/tlb.c keeps its own; 5.x builds it on
 * get_flush_tlb_info().)
 * do_kernel_range_flush(): as v4.13 and v4.14 have it, one __flush_tlb_single() per page.
 * Later kernels call the kernel flavour of the one-page flush instead, which with PTI also
 * marks the other ASIDs stale: __flush_tlb_one() in v4.15, __flush_tlb_one_kernel() from the
 * rename "x86/mm: Rename flush_tlb_single() and flush_tlb_one() to __flush_tlb_one_[user|kernel]()"
 * (Jan 2018, after v4.15; its commit id was not confirmed with the search tools).
 * linux-4.15-pti and linux-4.20 replace it with that form.
 */

/*
 * One INVLPG per page: it drops the translation, global or not; with PCID (4.14, no PTI) the
 * kernel mappings are global and INVLPG drops a global translation in every PCID.
 */
static void do_kernel_range_flush(void *info)
{
	struct flush_tlb_info *f = info;
	unsigned long addr;

	for (addr = f->start; addr < f->end; addr += PAGE_SIZE)
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

		info.start = start;
		info.end = end;
		on_each_cpu(do_kernel_range_flush, &info, 1);
	}
}
