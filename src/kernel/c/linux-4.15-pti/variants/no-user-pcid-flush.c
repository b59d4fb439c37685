/* tlbcheck: base=linux-4.15-pti id=linux-4.15-pti-no-user-pcid-flush-c kind=bug fixed-by=linux-4.15-pti-c
 *   title="PTI: single-page flush with INVLPG only, the user PCID keeps the old PTE, in C"
 *   expect=pti-return-to-user:2:violated:no-stale-tlb-use
 */
/*
 * __flush_tlb_one_user() as before PTI: INVLPG only, so a single-page flush reaches the
 * kernel PCID but neither flushes nor marks the user PCID ("x86/mm: Allow flushing for
 * future ASID switches", seed 001).
 */
static inline void __flush_tlb_one_user(unsigned long addr)
{
	__invlpg(addr);
}
