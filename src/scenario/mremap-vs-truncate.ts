/**
 * `mremap-vs-truncate` (CVE-2018-18281, eb66ae030829). cpu0, a thread of mmA, mremaps the
 * clean page at 0x1000 to 0x2000 (move_ptes under the PTE lock, holding the mmap_lock for
 * write). cpu1, a thread of mmA with 0x1000 cached, truncates the file under the new mapping
 * (unmap_mapping_range does not take the mmap_lock: zap_page_range_single on 0x2000 frees
 * the page after flushing 0x2000 only), then reads 0x1000. cpu2 (3 CPUs) is another thread
 * of mmA with 0x1000 cached that reads it. The freed page is reused by the allocator.
 */
import { reusePage } from '../kernel/fx.ts';
import { NOT_DIRTY, PAGE_SIZE } from '../machine/types.ts';
import { mmCall, withMmSide } from './mm-side.ts';
import { REUSE_FILL } from './munmap-zap.ts';
import { type Program, type Scenario, WorldBuilder, inSegments, userStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

export const NEW_VA = 0x2000;

export const mremapVsTruncate: Scenario = {
  id: 'mremap-vs-truncate',
  title: 'cpu0 mremaps a clean page of mmA while cpu1 truncates it at its new address and frees it',
  description:
    'cpu0 (thread of mmA): mremap(0x1000 -> 0x2000) = move_ptes under the PTL. ' +
    'cpu1 (thread of mmA, 0x1000 cached): truncate = zap_page_range_single(0x2000), the page is freed and reused; then a read of 0x1000. ' +
    'cpu2 (3 CPUs): thread of mmA, 0x1000 cached; a read of 0x1000.',
  cpus: { min: 2, max: 3, default: 2 },
  requires: ['mm_call'],
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const data = w.dataPage();
    // A clean PTE: the pre-fix move_ptes flushed under the lock only for dirty ones.
    w.mapUser(A, VA, data, NOT_DIRTY);
    const table = w.leafTable(A, VA);
    const mover: Program = function* (k) {
      yield* mmCall(k, 'mremap_move', A, VA, VA + PAGE_SIZE, { new_addr: NEW_VA });
    };
    const truncator = inSegments(
      (k) => mmCall(k, 'zap_page_range_single', A, NEW_VA, NEW_VA + PAGE_SIZE),
      (k) => reusePage(data, REUSE_FILL, 'page allocated again'),
      function* (k) {
        yield* k.r.user_access(k, VA, false);
      },
    );
    const reader: Program = function* (k) {
      yield* k.r.user_access(k, VA, false);
    };
    const starts = [userStart(A.id), userStart(A.id, [VA])];
    const programs: Program[] = [mover, truncator];
    if (cpus > 2) {
      starts.push(userStart(A.id, [VA]));
      programs.push(reader);
    }
    return withMmSide(w.build([VA, NEW_VA], starts, programs), [A], [table]);
  },
};
