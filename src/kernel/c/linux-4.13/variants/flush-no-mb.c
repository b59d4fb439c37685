/* tlbcheck: id=linux-4.13-flush-no-mb kind=bug base=linux-4.13 fixed-by=linux-4.13
 *   title="flush_tlb_mm_range without smp_mb() (CVE-2016-2069 pattern)"
 *   source="seed 004 ordering comment; CVE-2016-2069, commit 71b3c126e611"
 *   expect=switch-vs-flush:2:violated:no-stale-tlb-use,switch-vs-flush:3:violated:no-stale-tlb-use
 */
/*
 * flush_tlb_mm_range() of 4.13 without its smp_mb(): the caller's PTE store may still sit in
 * the store buffer when mm_cpumask(mm) is read. A CPU switching to mm sets its bit, loads CR3
 * and walks the old PTE from memory, and no IPI reaches it. The pattern of CVE-2016-2069,
 * fixed by 71b3c126e611 ("x86/mm: Add barriers and document switch_mm()-vs-flush
 * synchronization").
 */
void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, unsigned long vmflag)
{
	int cpu;

	struct flush_tlb_info info = {
		.mm = mm,
	};

	cpu = get_cpu();

	if ((end != TLB_FLUSH_ALL) &&
	    !(vmflag & VM_HUGETLB) &&
	    ((end - start) >> PAGE_SHIFT) <= tlb_single_page_flush_ceiling) {
		info.start = start;
		info.end = end;
	} else {
		info.start = 0UL;
		info.end = TLB_FLUSH_ALL;
	}

	if (mm == this_cpu_read(cpu_tlbstate.loaded_mm)) {
		VM_WARN_ON(irqs_disabled());
		local_irq_disable();
		flush_tlb_func_local(&info, TLB_LOCAL_MM_SHOOTDOWN);
		local_irq_enable();
	}

	if (cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids)	/* no smp_mb before it */
		flush_tlb_others(mm_cpumask(mm), &info);

	put_cpu();
}
