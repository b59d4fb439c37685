/* tlbcheck: base=kaiser-percpu-flush-c id=kaiser-no-user-flush-c kind=bug fixed-by=kaiser-percpu-flush-c
 *   title="KAISER without any user-PCID flush on mm switch, in C"
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
