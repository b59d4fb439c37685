/**
 * `reclaim-vs-mprotect` (3ea277194daa). cpu0 is kswapd (a kernel thread, idle on init_mm):
 * it reclaims the page at 0x1000 of mmA with a deferred flush (try_to_unmap_one with
 * TTU_BATCH_FLUSH: the PTE is cleared under the PTL, the flush batched in current->tlb_ubc),
 * then flushes the batch (try_to_unmap_flush -> arch_tlbbatch_flush) and frees the page;
 * the allocator hands it out again. cpu1, a thread of mmA with 0x1000 cached writable,
 * mprotects it read-only and then writes to it. cpu2 (3 CPUs) is another thread of mmA with
 * 0x1000 cached that reads it.
 */
import { reusePage } from '../kernel/fx.ts';
import { PAGE_SIZE } from '../machine/types.ts';
import { mmCall, withMmSide } from './mm-side.ts';
import { REUSE_FILL } from './munmap-zap.ts';
import { type Program, type Scenario, WorldBuilder, idleStart, inSegments, userStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

export const reclaimVsMprotect: Scenario = {
  id: 'reclaim-vs-mprotect',
  title: 'kswapd reclaims a page of mmA with a batched flush while a thread of mmA mprotects it read-only and writes',
  description:
    'cpu0 (kswapd, idle): try_to_unmap_one(0x1000) with a deferred flush, try_to_unmap_flush, free; the page is reused. ' +
    'cpu1 (thread of mmA, 0x1000 cached): mprotect(0x1000, PROT_READ), then a write. cpu2 (3 CPUs): thread of mmA, a read.',
  cpus: { min: 2, max: 3, default: 2 },
  requires: ['mm_call'],
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const data = w.dataPage();
    w.mapUser(A, VA, data);
    const table = w.leafTable(A, VA);
    const kswapd = inSegments(
      (k) => mmCall(k, 'shrink_page', A, VA, VA + PAGE_SIZE),
      (k) => reusePage(data, REUSE_FILL, 'page allocated again'),
    );
    const mprotecter = inSegments(
      (k) => mmCall(k, 'mprotect_readonly', A, VA, VA + PAGE_SIZE),
      function* (k) {
        yield* k.r.user_access(k, VA, true);
      },
    );
    const reader: Program = function* (k) {
      yield* k.r.user_access(k, VA, false);
    };
    const starts = [idleStart(), userStart(A.id, [VA])];
    const programs: Program[] = [kswapd, mprotecter];
    if (cpus > 2) {
      starts.push(userStart(A.id, [VA]));
      programs.push(reader);
    }
    const world = withMmSide(w.build([VA], starts, programs), [A], [table]);
    // kswapd's current->tlb_ubc (mm/rmap.c), private to cpu0.
    const ubc = ['tlb_ubc.arch.cpumask', 'tlb_ubc.arch.unmapped_pages', 'tlb_ubc.flush_required', 'tlb_ubc.writable'].map((f) => ({ name: `cpu0.${f}`, owner: 0 }));
    return { ...world, extraVars: [...(world.extraVars ?? []), ...ubc] };
  },
};
