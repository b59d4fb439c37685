/*
 * The asm/tlbflush.h inlines under flush_tlb_all(), as v4.12, v4.13 and v4.14 have them,
 * linked by linux-4.12, linux-4.13 and linux-4.14 (link= in their headers). Written for
 * tlbcheck in the kernel's shape and names; the comments are ours.
 *
 * Not shared further, because the kernel's text changed after v4.14: v4.15 folded
 * __native_flush_tlb_global_irq_disabled() into __native_flush_tlb_global() and toggles
 * CR4.PGE instead of clearing it ("x86/microcode: Dont abuse the tlbflush interface", in the
 * PTI series merged for v4.15; its commit id was not confirmed with the search tools), and
 * later kernels (v4.20 among them) open __flush_tlb_all() with VM_WARN_ON_ONCE(preemptible()).
 * linux-4.15-pti and linux-4.20 keep their own copies.
 */

/*
 * __native_flush_tlb_global(): INVPCID type 2 where the CPU has it (every PCID, globals too),
 * else clear CR4.PGE and set it again with IRQs off, which drops every entry. v4.12-v4.14 do
 * the CR4 writes in __native_flush_tlb_global_irq_disabled(); here they are written inline
 * (the same steps in the same order).
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
 * __flush_tlb_all(): everything, globals too, on this CPU: by the global flush with PGE, else
 * by a CR3 reload.
 * 4.14: without PGE there are no global entries and setup_pcid() has turned PCID off
 * (660da7c9228f), so the reload is a total flush: with PCID and no PGE it would reach only
 * the current PCID. (4.12 and 4.13 have no PCID.)
 */
static inline void __flush_tlb_all(void)
{
	if (boot_cpu_has(X86_FEATURE_PGE))
		__native_flush_tlb_global();
	else
		__flush_tlb();
}
