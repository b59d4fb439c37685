/*
 * The mm lifetime hooks of Linux v6.18 arch/x86/include/asm/mmu_context.h (init_new_context,
 * destroy_context), with mm_init_global_asid() of asm/tlbflush.h and mm_free_global_asid() of
 * arch/x86/mm/tlb.c (6.15+). Written for tlbcheck in the kernel's shape and names; the
 * comments are ours. Linked into linux-6.18 (link= in its header).
 *
 * Left out (no state the model has): the context mutex, next_trim_cpumask's jiffies stamp
 * (should_trim_cpumask() is a function of its own here), protection keys, the untag mask and
 * the LDT. The global ASID allocator is not modelled (scenarios hand global ASIDs out at
 * boot): mm_free_global_asid() gives the mm's ASID up, and the bitmap that keeps it from being
 * handed out again before the next rollover flush (global_asid_freed) is not kept, since no
 * scenario allocates one.
 */

/* asm/tlbflush.h: a new mm starts on dynamic ASIDs. */
static inline void mm_init_global_asid(struct mm_struct *mm)
{
	if (cpu_feature_enabled(X86_FEATURE_INVLPGB)) {
		WRITE_ONCE(mm->context.global_asid, 0);
		WRITE_ONCE(mm->context.asid_transition, false);
	}
}

static inline int init_new_context(struct task_struct *tsk, struct mm_struct *mm)
{
	/* The kernel assigns the field; the C subset writes shared words with WRITE_ONCE. */
	WRITE_ONCE(mm->context.ctx_id, atomic64_inc_return(&last_mm_ctx_id));
	atomic64_set(&mm->context.tlb_gen, 0);
	mm_init_global_asid(mm);
	return 0;
}

/* arch/x86/mm/tlb.c (6.15+): at __mmdrop(), the mm's global ASID goes back. */
void mm_free_global_asid(struct mm_struct *mm)
{
	if (!cpu_feature_enabled(X86_FEATURE_INVLPGB))
		return;

	if (!mm_global_asid(mm))
		return;

	/* global_asid_lock; __set_bit(asid, global_asid_freed); global_asid_available++ */
	WRITE_ONCE(mm->context.global_asid, 0);
}

static inline void destroy_context(struct mm_struct *mm)
{
	mm_free_global_asid(mm);
}
