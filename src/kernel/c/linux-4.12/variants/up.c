/* tlbcheck: id=linux-4.12-up kind=fix base=linux-4.12
 *   title="Linux 4.12 built without CONFIG_SMP: the uniprocessor flush path of asm/tlbflush.h"
 *   source="arch/x86/include/asm/tlbflush.h @ v4.12 (!CONFIG_SMP flush_tlb_mm_range, __flush_tlb_up, __native_flush_tlb with 5cf0791da5c1)"
 *   expect=preempt-cr3-up:1:holds,preempt-cr3-up:2:holds
 *   noop=count_vm_tlb_event
 */
/*
 * A uniprocessor 4.12 kernel: asm/tlbflush.h replaces the SMP flush_tlb_mm_range() of tlb.c
 * by an inline one that only flushes when the mm is the CPU's active_mm, by writing CR3 back
 * with its own value. Since 5cf0791da5c1 ("x86/mm: Disable preemption during CR3
 * read+write", v4.8) __native_flush_tlb() keeps preemption off between the read and the
 * write: a task that runs on a borrowed mm (current->mm == NULL, e.g. in exit_mmap()) may be
 * switched out and back in between, on another task's mm. Without CONFIG_PARAVIRT,
 * __flush_tlb() is __native_flush_tlb(). The UP path was removed in 4.13 (ce4a4e565f52).
 *
 * The switch path (switch_mm_irqs_off, enter_lazy_tlb) is 4.12's tlb.c, which UP builds too.
 */

#define __flush_tlb() __native_flush_tlb()

/* Reload CR3 with its own value; the task must stay on this mm from the read to the write. */
static inline void __native_flush_tlb(void)
{
	preempt_disable();
	native_write_cr3(native_read_cr3());
	preempt_enable();
}

static inline void __flush_tlb_up(void)
{
	count_vm_tlb_event(NR_TLB_LOCAL_FLUSH_ALL);
	__flush_tlb();
}

static inline void flush_tlb_mm_range(struct mm_struct *mm,
	   unsigned long start, unsigned long end, unsigned long vmflag)
{
	if (mm == current->active_mm)
		__flush_tlb_up();
}
