/* tlbcheck: id=linux-6.18-trim-cpumask kind=user base=linux-6.18
 *   title="Linux 6.18 with should_trim_cpumask() true: stale mm_cpumask bits are IPIed and cleared"
 *   source="arch/x86/mm/tlb.c @ v6.18: should_trim_cpumask, should_flush_tlb (trim_cpumask), flush_tlb_func"
 *   expect=switch-vs-flush:2:holds,asid-reuse:2:holds
 */
/*
 * 6.18 at the moment should_trim_cpumask() says yes (once a second per mm, by jiffies):
 * should_flush_tlb() then also IPIs CPUs whose mm_cpumask bit is stale, and their
 * flush_tlb_func() clears it. Not a bug: the other half of the lazy mm_cpumask.
 */
static bool should_trim_cpumask(struct mm_struct *mm)
{
	return true;
}
