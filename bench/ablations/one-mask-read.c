/* tlbcheck: id=abl-one-mask-read base=linux-6.18 kind=user
 *   title="ablation: flush_tlb_mm_range without the cpumask_any_but() read"
 */
void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, unsigned int stride_shift,
			bool freed_tables)
{
	struct flush_tlb_info *info;
	int cpu = get_cpu();
	u64 new_tlb_gen;

	new_tlb_gen = inc_mm_tlb_gen(mm);	/* (1) */

	info = get_flush_tlb_info(mm, start, end, stride_shift, freed_tables,
				  new_tlb_gen);

	if (mm_global_asid(mm)) {
		broadcast_tlb_flush(info);
	} else {
		info->trim_cpumask = should_trim_cpumask(mm);
		flush_tlb_multi(mm_cpumask(mm), info);
		consider_global_asid(mm);
	}

	put_flush_tlb_info();
	put_cpu();
}
