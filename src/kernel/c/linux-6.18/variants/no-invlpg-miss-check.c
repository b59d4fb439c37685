/* tlbcheck: base=linux-6.18 id=linux-6.18-no-invlpg-miss-check kind=bug fixed-by=linux-6.18
 *   title="setup_pcid() without the invlpg_miss_ids check: PCID stays on over the INVLPG erratum"
 *   source="ce0b15d11ad8 ('x86/mm: Avoid incomplete Global INVLPG flushes', v6.4, arch/x86/mm/init.c setup_pcid)"
 *   setup-pcid=pge
 *   expect=kernel-range-flush-global:2:violated:no-stale-kernel-translation@invlpg-miss,kernel-range-flush-global:3:violated:no-stale-kernel-translation@invlpg-miss
 */
/*
 * The kernel before ce0b15d11ad8 on an Alder Lake / Raptor Lake CPU: setup_pcid() enables
 * PCID because the CPU has PCID and PGE, and nothing else is checked. The kernel's own
 * flushes do not change: flush_tlb_one_kernel() still trusts one INVLPG to drop the global
 * kernel translation in every PCID, which this erratum breaks while CR4.PCIDE is set. A
 * CPU that had the old kernel page cached keeps using it after flush_tlb_kernel_range()
 * returned (the machine feature `invlpg-miss`, see src/machine/types.ts).
 *
 * The change is the boot's (setup-pcid= above, TypeScript glue: common/setup-pcid.ts); no C
 * function of tlb.c differs, so this file holds none.
 */
