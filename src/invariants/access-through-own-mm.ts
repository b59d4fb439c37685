/**
 * `access-through-own-mm`: an access to user memory goes through the page tables of the mm of
 * the task that owns it. When a user thread of mm M touches a user address, CR3 holds M's pgd
 * (or, with PTI/KAISER, M's user pgd).
 *
 * Encodes what switch_mm() promises to the task it switches to ("load_cr3(next->pgd)", and
 * `cpu_tlbstate.loaded_mm == current->active_mm` for a user task), and what breaks when code
 * that runs with a borrowed mm writes CR3 back after a task switch: 5cf0791da5c1 ("x86/mm:
 * Disable preemption during CR3 read+write"), where a preempted __native_flush_tlb() of an
 * exiting task reloads its old pgd under the next task.
 *
 * Judged at each user access (`access` effect of a program, not of an interrupt handler) of a
 * CPU whose ghost says which user thread runs there (`user-running`, set by context_switch),
 * and at each kernel read of user memory on behalf of the running task (copy_from_user_nmi
 * from the perf NMI handler: the owner is current->mm). 4012e77a903d ("x86/nmi: Fix NMI
 * uaccess race against CR3 switching") is the case of an NMI in switch_mm_irqs_off() after
 * the CR3 write, while current is still the previous task.
 * Deliberately not checked: kernel threads and lazy CPUs (they make no user access, and run on
 * whatever mm they borrowed), and CPUs whose running thread the scenario never named.
 */
import type { Layout } from '../kernel/layout.ts';
import type { CpuId, Pfn } from '../machine/types.ts';
import { hex } from '../machine/types.ts';
import type { Invariant, Violation } from './types.ts';

export const accessThroughOwnMm: Invariant = {
  id: 'access-through-own-mm',
  title: "an access to user memory goes through the page tables of the mm of the task that owns it",
  encodes: "switch_mm() loads next->pgd for the task it switches to; 5cf0791da5c1 (a preempted CR3 read+write reloads another task's pgd); nmi_uaccess_okay() of 4012e77a903d",
  scope: "user accesses of a CPU whose running user thread is known (context_switch), and the kernel's reads of user memory for current (copy_from_user_nmi); kernel threads and lazy CPUs are not checked",
  observes: ['own-access'],
  check: (o, cx) => (o.o === 'own-access' ? checkOwnMm(o.cpu, o.va, o.owner, o.root, cx.layout, cx.step, o.kernel) : undefined),
};

/** The violation when cpu `c`, running a user thread of mm `owner`, accesses `va` with CR3 root `root`. */
export function checkOwnMm(c: CpuId, va: number, owner: number, root: Pfn, L: Layout, step: number, kernel = false): Violation | undefined {
  if (owner < 0) return undefined;
  const own = L.mms[owner];
  if (!own || own.pgd === root || own.userPgd === root) return undefined;
  const other = L.mms.find((mm) => mm.pgd === root || mm.userPgd === root);
  const through = other ? `${other.name}'s page tables (pgd pfn ${root})` : `page table pfn ${root}, no mm's pgd`;
  return {
    invariant: 'access-through-own-mm',
    cpu: c,
    step,
    mm: owner,
    va,
    pfn: root,
    message: `cpu${c} ${kernel ? 'kernel read (copy_from_user_nmi) of user' : 'user access of'} va ${hex(va)} ${kernel ? 'on behalf of' : 'by'} a task of ${own.name} went through ${through}`,
  };
}
