/* tlbcheck: id=pasid-gp-fixup kind=fix base=linux-4.13 user-access=enqcmd
 *   title="PASID as merged in 5.18: MSR demand-populated by the #GP fixup"
 *   source="arch/x86/kernel/traps.c try_fixup_enqcmd_gp (5.18-6.x); seed 002 (the lazy-fixup question)"
 *   expect=pasid-update:2:holds
 */
/*
 * PASID as merged in 5.18 ("x86/traps: Demand-populate PASID MSR via #GP"): nothing in
 * switch_mm and no IPI. A thread starts with an invalid MSR_IA32_PASID; its first ENQCMD
 * raises #GP, and try_fixup_enqcmd_gp() (arch/x86/kernel/traps.c) loads current->mm->pasid
 * into the MSR and lets the instruction run again. The switch path is 4.13's, untouched.
 * Written for tlbcheck in the kernel's shape; the comments are ours.
 *
 * Simplifications, each safe for the pasid-update scenario:
 * - The model's MSR value 0 means "not valid" and a valid MSR holds the PASID without
 *   MSR_IA32_PASID_VALID; the invariant compares PASIDs only.
 * - current->pasid_activated is "the MSR is valid". The #GP entry (the ENQCMD glue,
 *   user-access=enqcmd) reaches this function only with an invalid MSR, so the kernel's
 *   "already activated: a real #GP" test is always false here and is left out.
 * - The MSR is XSAVE-managed per-thread state; the scenario's switching CPUs only move from a
 *   thread without a PASID to a fresh thread of the updated mm, both with an invalid MSR, so
 *   the XRSTOR on a thread switch changes nothing and is not modelled.
 */

/* include/linux/sched/mm.h (5.18): the bind stores the mm's PASID. */
static void mm_pasid_set(struct mm_struct *mm, u32 pasid)
{
	mm->pasid = pasid;
}

/*
 * The bind as the scenario's update: iommu_sva_bind_device() -> iommu_sva_alloc_pasid() ->
 * mm_pasid_set(), under the SVA mutex.
 *
 * (1) Then the syscall returns to user mode. Other threads learn of the bind only through a
 *     later store of this thread, which x86-TSO makes visible after this one; the model says
 *     so with a full barrier before the return (a formulation, not kernel code), so that the
 *     invariant judges only ENQCMDs that could know of the bind. Pairs with
 *     try_fixup_enqcmd_gp (1).
 */
void update_mm_pasid(struct mm_struct *mm, u32 pasid)
{
	mm_pasid_set(mm, pasid);
	smp_mb();	/* (1) */
}

/*
 * arch/x86/kernel/traps.c (5.18): run from exc_general_protection() for a user-mode #GP,
 * before IRQs are enabled.
 *
 * (1) current->mm->pasid is read when the ENQCMD faults, after the bind is visible to this
 *     thread; pairs with update_mm_pasid (1).
 */
bool try_fixup_enqcmd_gp(void)
{
	struct mm_struct *mm = current->mm;
	u32 pasid;

	if (!mm)
		return false;

	pasid = mm->pasid;	/* (1) current->mm->pasid */

	/* !mm_valid_pasid(): the mm has no PASID, the #GP is real. */
	if (!pasid)
		return false;

	wrmsrl(MSR_IA32_PASID, pasid);
	return true;
}
