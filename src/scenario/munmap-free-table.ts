/**
 * `munmap-free-table` (seed 003 through the mm side's C): cpu0, a thread of mmA, munmaps the
 * whole range of the leaf table that maps 0x1000 (unmap_region: zap_pte_range, then
 * free_pgtables hands the table to the mmu_gather with pte_free_tlb, freed_tables set), and the
 * allocator hands the table page and the data page out again. cpu1.. are kernel threads lazy on
 * mmA with 0x1000 and its upper entry cached; they switch back to mmA and touch 0x1000. A lazy
 * CPU the flush skipped walks through its cached upper entry into the freed table.
 */
import { reusePage } from '../kernel/fx.ts';
import { ENTRIES, PAGE_SIZE, makeEntry } from '../machine/types.ts';
import { mmCall, withMmSide } from './mm-side.ts';
import { REUSE_FILL } from './munmap-zap.ts';
import { type Program, type Scenario, WorldBuilder, inSegments, lazyStart, userStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

/** The range one leaf table maps (the model's PMD_SIZE). */
const TABLE_RANGE = ENTRIES * PAGE_SIZE;

export const munmapFreeTable: Scenario = {
  id: 'munmap-free-table',
  title: 'cpu0 munmaps the whole range of a leaf table of mmA, which is freed and reused, while cpu1.. are lazy on mmA',
  description:
    'cpu0 (thread of mmA): munmap(0x0-0x10000) = unmap_region: zap_pte_range, free_pgtables (pte_free_tlb), tlb_finish_mmu; the table and the page are reused. ' +
    'cpu1..: lazy on mmA with 0x1000 and its upper entry cached; context_switch back to mmA, user access.',
  cpus: { min: 2, max: 3, default: 2 },
  requires: ['mm_call'],
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const data = w.dataPage();
    w.mapUser(A, VA, data);
    const table = w.leafTable(A, VA);
    const junk = makeEntry(w.dataPage());
    const unmapper = inSegments(
      (k) => mmCall(k, 'unmap_region', A, 0, TABLE_RANGE),
      function* () {
        yield* reusePage(table, junk, 'table page allocated again');
        yield* reusePage(data, REUSE_FILL, 'page allocated again');
      },
    );
    const lazy = inSegments(
      (k) => k.r.context_switch(k, A.id),
      function* (k) {
        yield* k.r.user_access(k, VA, false);
      },
    );
    const starts = [userStart(A.id, [VA])];
    const programs: Program[] = [unmapper];
    for (let c = 1; c < cpus; c++) {
      starts.push(lazyStart(A.id, [VA]));
      programs.push(lazy);
    }
    return withMmSide(w.build([VA], starts, programs), [A], [table]);
  },
};
