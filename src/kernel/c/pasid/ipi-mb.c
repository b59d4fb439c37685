/* tlbcheck: id=pasid-ipi-mb kind=fix base=pasid-ipi-proposal
 *   title="PASID proposal + smp_mb() after the mm->pasid store (minimal fix)"
 *   source="seed 002 proposal; fix by analogy with flush_tlb_mm_range smp_mb (commit 71b3c126e611)"
 *   expect=pasid-update:2:holds
 */
/*
 * The proposal with smp_mb() between the PASID store and the mm_cpumask read: both sides are
 * then fenced (the switch side by its LOCK BTS), so either the updater sees the switcher's bit
 * and IPIs it, or the switcher reads the new PASID. By analogy with flush_tlb_mm_range's
 * smp_mb() (71b3c126e611).
 */
void update_mm_pasid(struct mm_struct *mm, u32 pasid)
{
	WRITE_ONCE(mm->context.pasid, pasid);
	smp_mb();	/* (1) pairs with cpumask_set_cpu in switch_mm_irqs_off */
	on_each_cpu_mask(mm_cpumask(mm), load_mm_pasid_ipi, mm, true);
}
