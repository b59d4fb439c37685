/* tlbcheck: id=linux-4.15-pti-kernel-flush-one-user kind=bug base=linux-4.15-pti fixed-by=linux-4.15-pti
 *   title="PTI: kernel-range flush with the single-PCID __flush_tlb_one (no invalidate_other)"
 *   source="seed 001 (Andy Lutomirski / Dave Hansen, 2017-11-28: split __flush_tlb_one)"
 *   expect=kernel-range-flush:2:violated:no-stale-kernel-translation,kernel-range-flush:3:violated:no-stale-kernel-translation
 */
/*
 * Kernel addresses flushed with the user flavour only, as the unsplit __flush_tlb_one did in
 * the middle of the PTI series once kernel pages lost _PAGE_GLOBAL: INVLPG reaches only the
 * current PCID, and another cached ASID keeps the old kernel translation. Seed 001.
 */
static void do_kernel_range_flush(void *info)
{
	struct flush_tlb_info *f = info;
	unsigned long addr;

	for (addr = f->start; addr < f->end; addr += PAGE_SIZE)
		__flush_tlb_one_user(addr);	/* the bug: not __flush_tlb_one_kernel */
}
