/**
 * `munmap-zap`: cpu0, a thread of mmA, munmaps the page at 0x1000 (unmap_region: an
 * mmu_gather around zap_pte_range, then tlb_finish_mmu), and the allocator hands the freed
 * page out again. cpu1.. are threads of mmA in user mode with 0x1000 cached; each touches it.
 * Until the flush reaches a CPU, its access may still use the old translation; once the page
 * is freed, such an access is a use-after-free (no-use-after-free-page).
 */
import { reusePage } from '../kernel/fx.ts';
import { PAGE_SIZE } from '../machine/types.ts';
import { mmCall, withMmSide } from './mm-side.ts';
import { type Program, type Scenario, WorldBuilder, userStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

/** What the page's next owner writes into it. */
export const REUSE_FILL = 0x5eed;

export const munmapZap: Scenario = {
  id: 'munmap-zap',
  title: 'cpu0 munmaps a page of mmA and the page is reused while cpu1.. run mmA with it cached',
  description:
    'cpu0 (thread of mmA): munmap(0x1000) = unmap_region: tlb_gather_mmu, zap_pte_range, tlb_finish_mmu; the page is reused. ' +
    'cpu1..: threads of mmA, 0x1000 cached; user access.',
  cpus: { min: 2, max: 4, default: 2 },
  requires: ['mm_call'],
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const data = w.dataPage();
    w.mapUser(A, VA, data);
    const table = w.leafTable(A, VA);
    const unmapper: Program = function* (k) {
      yield* mmCall(k, 'unmap_region', A, VA, VA + PAGE_SIZE);
      yield* reusePage(data, REUSE_FILL, 'page allocated again');
    };
    const user: Program = function* (k) {
      yield* k.r.user_access(k, VA, false);
    };
    const starts = [userStart(A.id, [VA])];
    const programs = [unmapper];
    for (let c = 1; c < cpus; c++) {
      starts.push(userStart(A.id, [VA]));
      programs.push(user);
    }
    return withMmSide(w.build([VA], starts, programs), [A], [table]);
  },
};
