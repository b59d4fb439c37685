/**
 * The stored counterexample corpus: the files in counterexamples/ that the suites replay, listed
 * by name. The suite replays this list, not whatever the folder holds, and
 * properties/counterexamples.test.ts fails when the folder and the list disagree (a stray file written
 * by a user's check, or a listed file that went missing). Adding a stored counterexample means
 * adding its name here in the same commit.
 */
import { join } from 'node:path';

export const CORPUS_DIR = join(import.meta.dirname, '..', 'counterexamples');

export const CORPUS: readonly string[] = [
  'kaiser-invpcid--pti-return-to-user-c2--no-cpu-fault.json',
  'kaiser-no-user-flush--pti-return-to-user-c2--no-stale-tlb-use.json',
  'linux-4.12-up-cr3-preemptible--preempt-cr3-up-c2--access-through-own-mm.json',
  'linux-4.13-cr3-before-cpumask--switch-vs-flush-c2--no-stale-tlb-use.json',
  'linux-4.13-flush-no-mb--generated-c2--no-walk-through-freed-table.json',
  'linux-4.13-flush-no-mb--switch-vs-flush-c2--no-stale-tlb-use.json',
  'linux-4.14-noflush-stale-gen--lazy-flush-c2--no-stale-tlb-use.json',
  'linux-4.14-partial-on-gen-skip--concurrent-flushes-c2--no-stale-tlb-use.json',
  'linux-4.14-reuse-asid-no-flush--asid-reuse-c2--no-stale-tlb-use.json',
  'linux-4.15-pti-kernel-flush-one-user--kernel-range-flush-c2--no-stale-kernel-translation.json',
  'linux-4.15-pti-no-user-pcid-flush--pti-return-to-user-c2--no-stale-tlb-use.json',
  'linux-4.20-lazy-skip-freed--lazy-free-pgtables-c2--no-walk-through-freed-table.json',
  'linux-4.20-nmi-uaccess-unchecked--nmi-uaccess-switch-c1--access-through-own-mm.json',
  'linux-4.20-was-lazy-no-mb--lazy-flush-c2--no-stale-tlb-use.json',
  'linux-6.17-switch-no-mb--switch-vs-flush-c2--no-stale-tlb-use.json',
  'linux-6.18-broadcast-no-tlbsync--broadcast-flush-c2--no-stale-tlb-use.json',
  'linux-6.18-lazy-skip-freed--lazy-free-pgtables-c2--no-walk-through-freed-table.json',
  'linux-6.18-no-finish-asid-transition--broadcast-transition-c2--no-stale-tlb-use.json',
  'pasid-ipi-proposal--pasid-update-c2--per-mm-state-coherent.json',
  'linux-6.18-finish-no-nested-flush--madvise-race-c2--no-stale-tlb-use.json',
  'linux-6.18-gather-free-before-flush--munmap-zap-c2--no-use-after-free-page.json',
  'linux-6.18-mprotect-no-batched-flush--reclaim-vs-mprotect-c2--no-stale-tlb-use.json',
  'linux-6.18-mremap-flush-after-unlock--mremap-vs-truncate-c2--no-use-after-free-page.json',
  'linux-6.18-no-invlpg-miss-check--kernel-range-flush-global-c2--no-stale-kernel-translation.json',
  'linux-4.14-pcid-without-pge--kernel-range-flush-all-c2--no-stale-kernel-translation.json',
  'linux-4.20-free-pte-page-no-flush--kernel-pgtable-free-c2--no-walk-through-freed-table.json',
  'linux-6.18-flush-range-not-freed--collapse-flush-c2--no-walk-through-freed-table.json',
  'linux-6.17-switch-no-mb-gen-checked--switch-vs-flush-c2--tlb-gen-caught-up.json',
  'linux-6.18-table-free-no-rcu--gup-fast-vs-free-table-c2--no-walk-through-freed-table.json',
  'linux-4.14-table-free-single-user--lazy-free-pgtables-c2--no-walk-through-freed-table.json',
  'linux-4.14-asid-by-mm-address--mm-reuse-c1--no-dead-mm-translation.json',
  'linux-4.20--mm-reuse-c2--no-walk-through-freed-table.json',
];

export const corpusPath = (name: string): string => join(CORPUS_DIR, name);

/** What differs between the folder's files and the list: files nobody listed, listed files missing. */
export function corpusMismatch(inFolder: readonly string[], listed: readonly string[]): { unlisted: string[]; missing: string[] } {
  return { unlisted: inFolder.filter((f) => !listed.includes(f)), missing: listed.filter((f) => !inFolder.includes(f)) };
}
