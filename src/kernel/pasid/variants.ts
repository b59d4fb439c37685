/**
 * PASID (seed 002, docs/seeds.md): Andy Lutomirski's 2020 proposal, its minimal fix, and the design merged
 * in 5.18. All derive from linux-4.13 (see proposal.ts for why that base is faithful).
 */
import { linux413 } from '../linux-4.13/variants.ts';
import { derive } from '../variant.ts';
import * as merged from './merged.ts';
import * as p from './proposal.ts';

/**
 * `pasid-ipi-proposal`: `load_mm_pasid()` at the end of `switch_mm_irqs_off()` reads
 * `READ_ONCE(next->context.pasid)`; the update stores `mm->context.pasid` and then runs
 * `on_each_cpu_mask(mm_cpumask(mm), load_mm_pasid, ...)`.
 *
 * Verdict under x86-TSO: VIOLATED (per-mm-state-coherent). The two sides form the
 * store-buffering litmus test. The updater's plain store of the PASID sits in its store
 * buffer while it reads `mm_cpumask(mm)` and finds no bit for a CPU that is switching in.
 * That CPU's LOCK BTS then sets its bit and drains only its own buffer. Its READ_ONCE of the
 * PASID reads memory, where the updater's store has not landed yet. So the switcher loads the
 * old PASID, and the updater sends it no IPI and returns. The switching CPU's user thread then
 * runs with the old PASID after the update returned. The switch side is a full barrier (LOCK
 * BTS), but the update side has none. "Protected by mm_cpumask" needs a barrier on both sides,
 * as `flush_tlb_mm_range()` has one (smp_mb in 4.13, the LOCK XADD of tlb_gen in 4.14).
 * Source: seed 002.
 */
export const pasidIpiProposal = derive(linux413, {
  id: 'pasid-ipi-proposal',
  title: 'PASID proposal (2020): load_mm_pasid in switch_mm, update by on_each_cpu_mask without a barrier',
  kind: 'bug',
  source: 'seed 002: Andy Lutomirski, LKML 2020-08-03, "Re: [PATCH v6 12/12] x86/traps: Fix up invalid PASID"',
  fixedBy: 'pasid-ipi-mb',
  routines: { switch_mm_irqs_off: p.switch_mm_irqs_off, update_mm_pasid: p.updateMmPasid({ mb: false }) },
  expect: [
    { scenario: 'pasid-update', cpus: 2, verdict: 'violated', invariant: 'per-mm-state-coherent' },
    { scenario: 'pasid-update', cpus: 3, verdict: 'violated', invariant: 'per-mm-state-coherent' },
  ],
});

/**
 * `pasid-ipi-mb`: the proposal plus `smp_mb()` between the PASID store and the
 * `mm_cpumask` read. That is the minimal fix: with both sides fenced, the SB outcome is
 * forbidden. Either the updater sees the switcher's bit and IPIs it, or the switcher reads
 * the new PASID. Expected: holds.
 */
export const pasidIpiMb = derive(linux413, {
  id: 'pasid-ipi-mb',
  title: 'PASID proposal + smp_mb() after the mm->pasid store (minimal fix)',
  kind: 'fix',
  source: 'seed 002 proposal; fix by analogy with flush_tlb_mm_range smp_mb (commit 71b3c126e611)',
  routines: { switch_mm_irqs_off: p.switch_mm_irqs_off, update_mm_pasid: p.updateMmPasid({ mb: true }) },
  expect: [
    { scenario: 'pasid-update', cpus: 2, verdict: 'holds' },
  ],
});

/**
 * `pasid-gp-fixup`: the merged design (5.18): no IPI; each thread's first ENQCMD faults and
 * `try_fixup_enqcmd_gp()` loads `mm->pasid` into the MSR. Verdict: holds under the use-based
 * formulation of per-mm-state-coherent (every ENQCMD after the bind is visible carries the
 * mm's PASID). It fails the "thread runs with the old value" reading by design: a thread's
 * MSR stays invalid until it uses ENQCMD.
 */
export const pasidGpFixup = derive(linux413, {
  id: 'pasid-gp-fixup',
  title: 'PASID as merged in 5.18: MSR demand-populated by the #GP fixup',
  kind: 'fix',
  source: 'arch/x86/kernel/traps.c try_fixup_enqcmd_gp (5.18-6.x); seed 002 (the lazy-fixup question)',
  routines: { user_access: merged.user_access, update_mm_pasid: merged.update_mm_pasid },
  expect: [
    { scenario: 'pasid-update', cpus: 2, verdict: 'holds' },
  ],
});
