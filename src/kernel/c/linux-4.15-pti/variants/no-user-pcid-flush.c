/* tlbcheck: id=linux-4.15-pti-no-user-pcid-flush kind=bug base=linux-4.15-pti fixed-by=linux-4.15-pti
 *   title="PTI: single-page flush with INVLPG only, the user PCID keeps the old PTE"
 *   source="seed 001 ([PATCH 15/24] x86/mm: Allow flushing for future ASID switches)"
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
