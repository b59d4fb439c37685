/* tlbcheck: id=kaiser-invpcid kind=bug base=kaiser-percpu-flush fixed-by=kaiser-percpu-flush boot=kaiser-const
 *   title="KAISER before the seed patch: user PCID flushed by INVPCID in load_new_mm_cr3"
 *   source="seed 000 (what 'kaiser: load_new_mm_cr3() let SWITCH_USER_CR3 flush user' replaced)"
 *   expect=pti-return-to-user:2:violated:no-cpu-fault,pti-return-to-user:3:violated:no-cpu-fault,pti-return-to-user:2:holds@invpcid
 */
/*
 * KAISER before "kaiser: load_new_mm_cr3() let SWITCH_USER_CR3 flush user" (seed 000): the
 * user PCID is flushed at once with invpcid_flush_single_context(X86_CR3_PCID_ASID_USER), and
 * SWITCH_USER_CR3 always loads the user CR3 with NOFLUSH (boot=kaiser-const). On a CPU with
 * PCID but no INVPCID (Westmere..Ivybridge) the INVPCID raises #UD: "on these
 * load_new_mm_cr3() simply crashed". With INVPCID it holds.
 */
static void load_new_mm_cr3(pgd_t *pgdir)
{
	unsigned long new_mm_cr3 = __pa(pgdir);

	if (kaiser_enabled && this_cpu_has(X86_FEATURE_PCID))
		invpcid_flush_single_context(X86_CR3_PCID_ASID_USER);	/* #UD without INVPCID */

	write_cr3(new_mm_cr3);
}

static inline void __native_flush_tlb(void)
{
	if (this_cpu_has(X86_FEATURE_INVPCID)) {
		invpcid_flush_all_nonglobals();
		return;
	}

	preempt_disable();
	if (kaiser_enabled && this_cpu_has(X86_FEATURE_PCID))
		invpcid_flush_single_context(X86_CR3_PCID_ASID_USER);
	native_write_cr3(native_read_cr3());
	preempt_enable();
}

static inline void __native_flush_tlb_single(unsigned long addr)
{
	if (!this_cpu_has(X86_FEATURE_INVPCID_SINGLE)) {
		if (kaiser_enabled && this_cpu_has(X86_FEATURE_PCID))
			invpcid_flush_single_context(X86_CR3_PCID_ASID_USER);
		__invlpg(addr);
		return;
	}

	if (kaiser_enabled)
		invpcid_flush_one(X86_CR3_PCID_ASID_USER, addr);
	invpcid_flush_one(X86_CR3_PCID_ASID_KERN, addr);
}
