/* tlbcheck: id=linux-4.12-up-cr3-preemptible kind=bug base=linux-4.12-up fixed-by=linux-4.12-up
 *   title="UP __native_flush_tlb() reads and writes CR3 with preemption on (before 5cf0791da5c1)"
 *   source="commit 5cf0791da5c1 (x86/mm: Disable preemption during CR3 read+write, v4.8; Cc stable)"
 *   expect=preempt-cr3-up:1:violated:access-through-own-mm,preempt-cr3-up:2:violated:access-through-own-mm
 */
/*
 * __native_flush_tlb() as it was before 5cf0791da5c1: native_write_cr3(native_read_cr3())
 * with preemption enabled. On a UP kernel, task A in do_exit() has set current->mm = NULL
 * and flushes its old mm from exit_mmap(). Preempted between the read and the write, B runs
 * (CR3 := B's pgd); back in A (a kernel thread now, borrowing B: no CR3 change), A writes
 * its old pgd into CR3. When A is switched out again, context_switch() sees prev->active_mm
 * == B == next->mm and switch_mm() reloads nothing: B returns to user mode on A's page
 * tables, the endless fault loop the commit describes.
 */
static inline void __native_flush_tlb(void)
{
	native_write_cr3(native_read_cr3());
}
