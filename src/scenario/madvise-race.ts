/**
 * `madvise-race`: two madvise calls on one range of mmA at once, under the mmap_lock read
 * side (99baac21e458, "mm: fix MADV_[FREE|DONTNEED] TLB flush miss problem"). cpu0
 * MADV_DONTNEEDs 0x1000 (the page is freed after its flush); cpu1 MADV_FREEs it
 * and writes to it; cpu2 (3+ CPUs) MADV_DONTNEEDs it and reads it. Every CPU runs a thread of
 * mmA with 0x1000 cached. A madvise that finds the PTE already cleared by the other has
 * nothing to flush; if it returns before the other's flush, its thread still uses the old
 * translation (no-stale-tlb-use: the call returned having seen the change).
 */
import { PAGE_SIZE } from '../machine/types.ts';
import { mmCall, withMmSide } from './mm-side.ts';
import { type Scenario, WorldBuilder, inSegments, userStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

export const madviseRace: Scenario = {
  id: 'madvise-race',
  title: 'MADV_DONTNEED and MADV_FREE race on one range of mmA; each caller then touches it',
  description:
    'cpu0: madvise(0x1000, MADV_DONTNEED). cpu1: madvise(0x1000, MADV_FREE), then a write. ' +
    'cpu2 (3 CPUs): madvise(0x1000, MADV_DONTNEED), then a read. All threads of mmA with 0x1000 cached.',
  cpus: { min: 2, max: 3, default: 2 },
  requires: ['mm_call'],
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const data = w.dataPage();
    w.mapUser(A, VA, data);
    const table = w.leafTable(A, VA);
    // Each part closes over constants only: a finished part's history is forgotten.
    const dontneed = inSegments((k) => mmCall(k, 'madvise_dontneed', A, VA, VA + PAGE_SIZE));
    const free = inSegments(
      (k) => mmCall(k, 'madvise_free', A, VA, VA + PAGE_SIZE),
      function* (k) {
        yield* k.r.user_access(k, VA, true);
      },
    );
    const dontneedRead = inSegments(
      (k) => mmCall(k, 'madvise_dontneed', A, VA, VA + PAGE_SIZE),
      function* (k) {
        yield* k.r.user_access(k, VA, false);
      },
    );
    const starts = [userStart(A.id, [VA]), userStart(A.id, [VA])];
    const programs = [dontneed, free];
    if (cpus > 2) {
      starts.push(userStart(A.id, [VA]));
      programs.push(dontneedRead);
    }
    return withMmSide(w.build([VA], starts, programs), [A], [table]);
  },
};
