/* tlbcheck: base=linux-4.14 id=linux-4.14-pcid-without-pge kind=bug fixed-by=linux-4.14
 *   title="setup_pcid() without its PGE check: PCID on, no PGE, and __flush_tlb_all() reloads only the current PCID"
 *   source="660da7c9228f ('x86/mm: Enable CR4.PCIDE on supported systems', v4.14, arch/x86/mm/init.c setup_pcid); asm/tlbflush.h __flush_tlb_all"
 *   setup-pcid=none
 *   expect=kernel-range-flush-all:2:violated:no-stale-kernel-translation@-pge,kernel-range-flush-all:3:violated:no-stale-kernel-translation@-pge
 *   expect=kernel-range-flush-global:2:violated:no-stale-kernel-translation@-pge
 */
/*
 * PCID enabled on a CPU (or a badly configured VM) without PGE. Without PGE the kernel maps
 * itself with non-global PTEs, so its translations are cached per PCID like user ones:
 * __flush_tlb_all() falls back to a CR3 reload and flush_tlb_one_kernel() to one INVLPG,
 * and both reach only the current PCID. Another cached ASID keeps the old kernel
 * translation, and switching to it needs no flush by its tlb_gen.
 *
 * 660da7c9228f, the commit that turned PCID on in 4.14, closed this in setup_pcid(): PCID
 * is cleared when PGE is absent, with a comment that flush_tlb_all() would not work
 * otherwise. This variant is that kernel without the check: a guard that came with the
 * feature rather than a later regression fix, modelled because it is the reason why the
 * kernel's choice between INVPCID, the CR4.PGE toggle and a CR3 reload is sound.
 *
 * The change is the boot's (setup-pcid= above, TypeScript glue: common/setup-pcid.ts); no C
 * function of tlb.c differs, so this file holds none.
 */
