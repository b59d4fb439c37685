/* tlbcheck: id=linux-6.18-lazy-skip-freed kind=bug base=linux-6.18 fixed-by=linux-6.18
 *   title="native_flush_tlb_multi skips lazy CPUs although page tables were freed"
 *   source="seed 003; native_flush_tlb_multi (v6.18) without its freed_tables branch; SPIN s3 -DBUGGY"
 *   expect=lazy-free-pgtables:2:violated:no-walk-through-freed-table,lazy-free-pgtables:3:violated:no-walk-through-freed-table
 *   expect=munmap-free-table:2:violated:no-walk-through-freed-table,munmap-free-table:3:violated:no-walk-through-freed-table
 */
/*
 * native_flush_tlb_multi() without its freed_tables branch: should_flush_tlb() skips a lazy
 * CPU even when page tables were freed, and that CPU keeps walking through its cached upper
 * entry into the freed, reused table. Seed 003 on modern code.
 */
void native_flush_tlb_multi(const struct cpumask *cpumask,
			    const struct flush_tlb_info *info)
{
	on_each_cpu_cond_mask(should_flush_tlb, flush_tlb_func,
			      (void *)info, true, cpumask);
}
