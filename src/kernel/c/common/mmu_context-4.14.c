/*
 * init_new_context() of arch/x86/include/asm/mmu_context.h as v4.14 through v4.20 have it,
 * linked into those generations (link= in their headers). Written for tlbcheck in the
 * kernel's shape and names; the comments are ours.
 *
 * f39681ed0f48 ("x86/mm: Give each mm TLB flush generation a unique ID", merged for v4.14)
 * gave every mm a ctx_id taken from a global counter, so that an ASID slot's owner is named
 * by something no later mm can have, even one allocated at the same address after this one
 * was freed; and a tlb_gen that starts at 0 for every new mm.
 *
 * Left out (no state the model has): the protection-key defaults and init_new_context_ldt().
 */
static inline int init_new_context(struct task_struct *tsk, struct mm_struct *mm)
{
	/* The kernel assigns the field; the C subset writes shared words with WRITE_ONCE. */
	WRITE_ONCE(mm->context.ctx_id, atomic64_inc_return(&last_mm_ctx_id));
	atomic64_set(&mm->context.tlb_gen, 0);
	return 0;
}
