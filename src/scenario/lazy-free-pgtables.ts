/**
 * `lazy-free-pgtables` (seed 003, docs/seeds.md). cpu1.. are kernel threads running lazily on mm A; their
 * paging-structure cache holds A's upper entry for 0x1000. cpu0 unmaps the region and frees
 * the leaf table page through the mmu_gather path; the page is then reused as data. The
 * lazy CPUs' walkers may walk at any time while CR3 holds A: if a flush skipped them, a walk
 * through the cached upper entry reads the reused page. Afterwards each lazy CPU switches back
 * to A's user thread and touches the address.
 */
import type { K } from '../kernel/fx.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { free_pgtables } from '../kernel/common/sched.ts';
import { makeEntry } from '../machine/types.ts';
import { type Program, type Scenario, WorldBuilder, idleStart, inSegments, lazyStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

/** The unmapped region: 64 pages, more than the single-page flush ceiling. */
export const REGION_END = 0x40000;

export const lazyFreePgtables: Scenario = {
  id: 'lazy-free-pgtables',
  title: 'cpu0 frees a leaf page table of mmA while cpu1.. run lazily on mmA',
  description:
    'cpu0 (kernel thread): pmd_clear, flush_tlb_mm_range(A, freed_tables), free and reuse the table page. ' +
    'cpu1..: lazy on mmA with 0x1000 and its upper entry cached; context_switch back to mmA, user access.',
  cpus: { min: 2, max: 4, default: 2 },
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const data = w.dataPage();
    w.mapUser(A, VA, data);
    const table = w.leafTable(A, VA);
    const pmdp = w.pmdLoc(A, VA);
    const junk = makeEntry(w.dataPage());
    const freer: Program = function* (k: K<CoreRoutines>) {
      yield* free_pgtables(k, A.id, pmdp, table, 0, REGION_END, junk);
    };
    const lazy = inSegments(
      (k) => k.r.context_switch(k, A.id),
      function* (k) {
        yield* k.r.user_access(k, VA, false);
      },
    );
    const starts = [idleStart()];
    const programs = [freer];
    for (let c = 1; c < cpus; c++) {
      starts.push(lazyStart(A.id, [VA]));
      programs.push(lazy);
    }
    return w.build([VA], starts, programs);
  },
};
