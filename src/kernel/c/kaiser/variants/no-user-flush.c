/* tlbcheck: id=kaiser-no-user-flush kind=bug base=kaiser-percpu-flush fixed-by=kaiser-percpu-flush
 *   title="KAISER without any user-PCID flush on mm switch"
 *   source="seed 000: the shared user PCID must be flushed on every task change"
 *   expect=pti-return-to-user:2:violated:no-stale-tlb-use
 */
/*
 * KAISER with the user-PCID flush left out altogether: the trap the seed's comment describes,
 * the same PCID "is used for different tasks". After a switch the shared user PCID still
 * serves the previous mm's translation.
 */
void kaiser_flush_tlb_on_return_to_user(void)
{
	/* The bug: nothing; SWITCH_USER_CR3 keeps NOFLUSH. */
}
