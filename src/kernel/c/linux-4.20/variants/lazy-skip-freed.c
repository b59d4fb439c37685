/* tlbcheck: id=linux-4.20-lazy-skip-freed kind=bug base=linux-4.20 fixed-by=linux-4.20
 *   title="native_flush_tlb_others skips lazy CPUs although page tables were freed"
 *   source="seed 003; native_flush_tlb_others (v4.20) without its freed_tables branch"
 *   expect=lazy-free-pgtables:2:violated:no-walk-through-freed-table,lazy-free-pgtables:3:violated:no-walk-through-freed-table
 */
/*
 * native_flush_tlb_others() that skips lazy CPUs whatever the flush: a lazy CPU keeps its
 * cached upper entry and walks through the freed, reused page table (seed 003).
 */
void native_flush_tlb_others(const struct cpumask *cpumask,
			     const struct flush_tlb_info *info)
{
	on_each_cpu_cond_mask(tlb_is_not_lazy, flush_tlb_func_remote,
			      (void *)info, 1, GFP_ATOMIC, cpumask);
}
