/**
 * `concurrent-flushes` (4.14+ `tlb_gen`). Two CPUs change and flush different pages of the
 * same mm at the same time, so a CPU may handle the two flushes in either order, or catch up
 * on both in one. The handler of one may see `mm_tlb_gen` already past its own generation:
 * its early exit ("local_tlb_gen == mm_tlb_gen") is right only if the flush that advanced
 * `local_tlb_gen` flushed everything.
 *
 * cpu0 is a kernel thread (no local flush); cpu1 is in a syscall of mmA, so its flush runs
 * locally and cpu0's IPI reaches it; cpu2.. run mmA in user mode and get both IPIs. Every
 * CPU but cpu0 then touches both pages. `ops` (1-2) is the number of pages cpu1 changes.
 */
import type { K } from '../kernel/fx.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { set_pte_at } from '../kernel/common/sched.ts';
import { makeEntry, PAGE_SIZE } from '../machine/types.ts';
import { type Program, type Scenario, WorldBuilder, idleStart, inSegments, userStart } from './world.ts';

export const VA1 = 0x1000;
export const VA2 = 0x2000;
const VA3 = 0x3000;
const OPS = { min: 1, max: 2, default: 1, what: 'page changes + flushes by cpu1 (0x2000, then 0x3000)' };

export const concurrentFlushes: Scenario = {
  id: 'concurrent-flushes',
  title: 'cpu0 and cpu1 change and flush different pages of mmA at the same time',
  description:
    'cpu0 (kernel thread): set_pte(A, 0x1000), flush_tlb_mm_range(A, 0x1000). ' +
    'cpu1 (syscall of mmA, pages cached): set_pte(A, 0x2000), flush_tlb_mm_range(A, 0x2000) (local + IPIs), then user accesses. ' +
    'cpu2..: run mmA with the pages cached, user accesses of each page.',
  cpus: { min: 2, max: 4, default: 2 },
  ops: OPS,
  build: ({ cpus, ops }) => {
    const nOps = ops ?? OPS.default;
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const vas = [VA1, VA2, VA3].slice(0, 1 + nOps);
    const pteps = vas.map((va) => w.mapUser(A, va, w.dataPage()));
    const fresh = vas.map(() => makeEntry(w.dataPage()));
    const touch = function* (k: K<CoreRoutines>) {
      for (const va of vas) yield* k.r.user_access(k, va, false);
    };
    const flusher0: Program = function* (k: K<CoreRoutines>) {
      yield* set_pte_at(k, pteps[0]!, fresh[0]!);
      yield* k.r.flush_tlb_mm_range(k, A.id, VA1, VA1 + PAGE_SIZE, false);
    };
    const flusher1 = inSegments(
      ...vas.slice(1).map(
        (va, j): Program =>
          function* (k) {
            yield* set_pte_at(k, pteps[j + 1]!, fresh[j + 1]!);
            yield* k.r.flush_tlb_mm_range(k, A.id, va, va + PAGE_SIZE, false);
          },
      ),
      (k) => touch(k),
    );
    const starts = [idleStart(), userStart(A.id, vas)];
    const programs: Program[] = [flusher0, flusher1];
    for (let c = 2; c < cpus; c++) {
      starts.push(userStart(A.id, vas));
      programs.push(touch);
    }
    return w.build(vas, starts, programs);
  },
};
