/**
 * `per-mm-state-coherent`: after an update of per-mm CPU state (the PASID) returns, no CPU
 * runs a user thread of that mm with the old value.
 *
 * Encodes the contract Andy Lutomirski states for the proposed PASID update (seed 002, docs/seeds.md):
 * "the pasid update is just on_each_cpu_mask(mm_cpumask(mm), load_mm_pasid, ...)" - when it
 * returns, every thread of the mm sees the new PASID in `MSR_IA32_PASID`.
 *
 * Judged where the value is used: at each user access (the ENQCMD that carries the PASID) of
 * a CPU whose running user thread (ghost `user-running`) belongs to the updated mm, after
 * the update returned, the CPU's PASID MSR must hold the new value. This formulation also
 * fits the design merged in 5.18, where a thread's MSR is empty until its first ENQCMD and
 * the #GP fixup fills it before the instruction is retried: only the use must be coherent.
 * Deliberately not checked: kernel threads and lazy CPUs (they never issue ENQCMD), and
 * accesses before the update returned.
 */
import type { Observation } from '../machine/machine.ts';
import type { Ghost } from './ghost.ts';
import type { Invariant, Violation } from './types.ts';

export const perMmStateCoherent: Invariant = {
  id: 'per-mm-state-coherent',
  title: 'after a per-mm state (PASID) update returns, no user thread of that mm uses the old value',
  encodes: 'seed 002: load_mm_pasid() in switch_mm_irqs_off + on_each_cpu_mask(mm_cpumask(mm), load_mm_pasid)',
  scope: 'user accesses (ENQCMD) of the updated mm after the update returned; kernel and lazy CPUs are not checked',
  observes: ['use'],
  check: (o, cx) => (o.o === 'use' && cx.ghost.pasid.length > 0 ? checkPerMmState(o, cx.ghost, cx.m.cpu(o.cpu).pasidMsr, cx.step, cx.mmName) : undefined),
};

export function checkPerMmState(
  o: Extract<Observation, { o: 'use' }>,
  ghost: Ghost,
  pasidMsr: number,
  step: number,
  mmName: (mm: number) => string,
): Violation | undefined {
  const mm = ghost.userMm[o.cpu];
  if (mm === undefined || mm < 0) return undefined;
  let latest: { val: number; returnedAt: number; cpu: number } | undefined;
  for (const p of ghost.pasid) if (p.mm === mm && p.returnedAt >= 0) latest = p;
  if (!latest || pasidMsr === latest.val) return undefined;
  return {
    invariant: perMmStateCoherent.id,
    cpu: o.cpu,
    step,
    mm,
    by: latest.cpu,
    returnedAt: latest.returnedAt,
    message:
      `cpu${o.cpu} runs a user thread of ${mmName(mm)} with PASID MSR ${pasidMsr}, but cpu${latest.cpu}'s update ` +
      `to ${latest.val} returned at step ${latest.returnedAt}`,
  };
}
