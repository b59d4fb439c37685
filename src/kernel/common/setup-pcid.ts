/**
 * arch/x86/mm/init.c `setup_pcid()`: at boot the kernel decides whether it uses PCID, and
 * where it does not it clears X86_FEATURE_PCID (`setup_clear_cpu_cap`) and leaves CR4.PCIDE
 * off. Every later `static_cpu_has(X86_FEATURE_PCID)` then reads false, whatever the CPU has.
 * The boot is TypeScript glue (it runs before the first step); a generation names the checks
 * its setup_pcid() makes with the header key `setup-pcid=` (a patch may change them):
 *
 * - `pge`: PCID without PGE is turned off (660da7c9228f, "x86/mm: Enable CR4.PCIDE on
 *   supported systems", v4.14): `__flush_tlb_all()` reloads CR3 when there is no PGE, which
 *   flushes only the current PCID, so the kernel translations of other cached ASIDs would
 *   survive a "flush everything".
 * - `invlpg-miss`: on the CPUs of `invlpg_miss_ids` (Alder Lake, Raptor Lake, Gracemont)
 *   PCID is turned off (ce0b15d11ad8, "x86/mm: Avoid incomplete Global INVLPG flushes",
 *   v6.4): there INVLPG may leave a global translation while CR4.PCIDE is set, and the kernel
 *   relies on INVLPG reaching global kernel mappings in every PCID (flush_tlb_one_kernel).
 *   The model's `invlpg-miss` feature is the CPU match; the later microcode-revision and
 *   hypervisor refinements of the match are not modelled (the feature means "affected").
 *
 * Without `setup-pcid=` the kernel sees the machine's features unchanged (every generation
 * before this file: their rows never combine PCID with the erratum or with PGE off).
 */
import { UserError } from '../../errors.ts';
import type { Features } from '../../machine/types.ts';

export const SETUP_PCID_CHECKS = ['pge', 'invlpg-miss'] as const;
export type SetupPcidCheck = (typeof SETUP_PCID_CHECKS)[number];

/** The checks of a `setup-pcid=` list (`none`: no check at all). */
export function parseSetupPcid(where: string, list: readonly string[]): SetupPcidCheck[] {
  if (list.length === 1 && list[0] === 'none') return [];
  for (const c of list) {
    if (!(SETUP_PCID_CHECKS as readonly string[]).includes(c)) throw new UserError(`${where}: unknown setup-pcid check '${c}' (${SETUP_PCID_CHECKS.join(', ')}, or none)`);
  }
  return list as SetupPcidCheck[];
}

/** The features the kernel sees after setup_pcid() on a machine with `f`. */
export function setupPcid(f: Features, checks: readonly SetupPcidCheck[]): Features {
  if (!f.pcid) return f;
  if (checks.includes('invlpg-miss') && f['invlpg-miss'] === true) return { ...f, pcid: false };
  if (checks.includes('pge') && !f.pge) return { ...f, pcid: false };
  return f;
}
