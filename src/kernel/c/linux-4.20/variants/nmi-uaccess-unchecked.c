/* tlbcheck: id=linux-4.20-nmi-uaccess-unchecked kind=bug base=linux-4.20 fixed-by=linux-4.20
 *   title="copy_from_user_nmi() without nmi_uaccess_okay() (before 4012e77a903d)"
 *   source="commit 4012e77a903d (x86/nmi: Fix NMI uaccess race against CR3 switching, v4.19; Cc stable)"
 *   expect=nmi-uaccess-switch:1:violated:access-through-own-mm,nmi-uaccess-switch:2:violated:access-through-own-mm
 */
/*
 * copy_from_user_nmi() as it was before 4012e77a903d: it reads user memory through whatever
 * CR3 holds. An NMI that hits context_switch() after switch_mm_irqs_off() has loaded the
 * next task's page tables, but before current is the next task, reads the previous task's
 * user address (perf's user stack walk of current) through the next mm: data of another
 * process. Only the check is taken out; the LOADED_MM_SWITCHING store of the same commit
 * stays in switch_mm_irqs_off() (nothing reads it without the check).
 */
unsigned long
copy_from_user_nmi(void *to, const void __user *from, unsigned long n)
{
	unsigned long ret;

	if (__range_not_ok(from, n, TASK_SIZE))
		return n;

	/* Page faults off, whatever context calls us. */
	pagefault_disable();
	ret = __copy_from_user_inatomic(to, from, n);
	pagefault_enable();

	return ret;
}
