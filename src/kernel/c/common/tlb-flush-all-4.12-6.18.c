/*
 * flush_tlb_all() and its cross-call do_flush_tlb_all(), from arch/x86/mm/tlb.c. Linked by
 * linux-4.12, linux-4.13, linux-4.14, linux-4.20 and linux-6.18 (link= in their headers);
 * each base's own tlb.c is linked after this file and replaces a function of the same name.
 * Written for tlbcheck in the kernel's shape and names; the comments are ours.
 *
 * flush_tlb_all(): the same text in v4.12 through v4.20. linux-6.18 replaces it (INVLPGB
 * first, the cross-call only without it).
 * do_flush_tlb_all(): the same text in v4.13 through v6.18. linux-4.12 replaces it: before the
 * lazy-TLB rework of v4.13 (seed 004) a lazy CPU also left its borrowed mm here.
 */

static void do_flush_tlb_all(void *info)
{
	count_vm_tlb_event(NR_TLB_REMOTE_FLUSH_RECEIVED);
	__flush_tlb_all();
}

void flush_tlb_all(void)
{
	count_vm_tlb_event(NR_TLB_REMOTE_FLUSH);
	on_each_cpu(do_flush_tlb_all, NULL, 1);
}
