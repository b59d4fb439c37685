/**
 * `no-walk-through-freed-table`: no page walk, speculative or not, reads a page that is not a
 * live page table of the tree it walks.
 *
 * Encodes seed 003 (docs/seeds.md): the CPU may walk user addresses speculatively even in a lazy kernel
 * thread, through paging-structure caches, so freed (and reused) table pages must be
 * unreachable from every CPU's CR3 and caches before they are freed ("we need to flush the
 * TLBs of all users, including lazy TLB kernel threads").
 *
 * Software walkers count too: GUP-fast (mm/gup.c gup_fast) walks current->mm's tables with
 * IRQs off and plain loads (the `load` effect's `walk`), relying on the table-freeing side to
 * wait for it: by the flush IPI it cannot take (IPI flushes) or by RCU table freeing
 * (a37259732a7d: INVLPGB flushes send no IPI).
 *
 * Holds: always, for every CPU whose CR3 points at a tree, and for every software walk.
 */
import type { Observation } from '../machine/machine.ts';
import { PageKind, hex } from '../machine/types.ts';
import type { Invariant, Violation } from './types.ts';

export const noWalkThroughFreedTable: Invariant = {
  id: 'no-walk-through-freed-table',
  title: 'no walk, speculative or not, reads a page that is not a live page table of the walked tree',
  encodes: 'seed 003 / native_flush_tlb_others(): freed page tables must be flushed from lazy CPUs too',
  scope: 'every walk on every CPU, user, kernel and lazy mode alike',
  observes: ['walk-read'],
  check: (o, cx) => (o.o === 'walk-read' ? checkWalkRead(o, cx.step, cx.mmName) : undefined),
  observationOnly: true,
};

const KIND = ['free', 'data', 'upper table', 'leaf table'];

export function checkWalkRead(
  o: Extract<Observation, { o: 'walk-read' }>,
  step: number,
  mmName: (mm: number) => string,
): Violation | undefined {
  const live =
    o.level === 'root'
      ? o.kind === PageKind.PtUpper && o.owner === o.tree
      : o.kind === PageKind.PtLeaf && (o.owner === o.tree || o.owner < 0);
  if (live) return undefined;
  const what = o.kind === PageKind.PtLeaf || o.kind === PageKind.PtUpper ? `a table of ${mmName(o.owner)}` : `a ${KIND[o.kind] ?? '?'} page`;
  return {
    invariant: noWalkThroughFreedTable.id,
    cpu: o.cpu,
    step,
    mm: o.tree,
    va: o.va,
    pfn: o.pfn,
    ...(o.software ? { software: true as const } : {}),
    message:
      `cpu${o.cpu} ${o.software ? 'software (GUP-fast)' : o.speculative ? 'speculative' : 'access'} walk of va ${hex(o.va)} in ${mmName(o.tree)} read pfn ${o.pfn}` +
      `${o.viaPsc ? ' through a cached upper entry' : ''}, which is now ${what}`,
  };
}
