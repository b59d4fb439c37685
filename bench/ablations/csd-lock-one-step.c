/* tlbcheck: id=abl-csd-lock-one-step base=linux-6.18 kind=user
 *   title="ablation: csd_lock() as one LOCK'd step"
 */
/*
 * An ablation (bench/ablations/README.md), not a kernel change: v6.18's csd_lock() is
 * csd_lock_wait() (a load that waits for the lock bit to clear) and then a plain store of the
 * lock bit, which sits in the store buffer until it drains; SPIN's model takes the csd and
 * queues in one step.
 */
#define SCF_WAIT	(1U << 0)
#define SCF_RUN_LOCAL	(1U << 1)
#define CSD_FLAG_LOCK	1

static void csd_lock(call_single_data_t *csd)
{
	/*
	 * Ablation: the wait and the take as one LOCK'd step. On spin-scaled the csd is always
	 * free here (each sender waited for its previous call to this target before), so the
	 * exchange always succeeds.
	 */
	WARN_ON_ONCE(atomic_cmpxchg(csd, 0, CSD_FLAG_LOCK) != 0);
}
