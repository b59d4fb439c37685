/**
 * `lazy-flush`: cpu1.. run a user thread of mm A with 0x1000 cached, switch to a kernel thread
 * (lazy TLB: CR3 still holds A), then back to A's user thread and touch the address. cpu0
 * changes the PTE and flushes A meanwhile. A lazy CPU must either flush, leave A, or catch up
 * when it switches back.
 */
import type { K } from '../kernel/fx.ts';
import { NO_MM } from '../kernel/layout.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { set_pte_at } from '../kernel/common/sched.ts';
import { makeEntry, PAGE_SIZE } from '../machine/types.ts';
import { type Program, type Scenario, WorldBuilder, idleStart, inSegments, userStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

export const lazyFlush: Scenario = {
  id: 'lazy-flush',
  title: 'cpu1.. go lazy on mmA while cpu0 flushes mmA, then switch back to mmA',
  description:
    'cpu0 (kernel thread): set_pte(A, 0x1000) then flush_tlb_mm_range(A). ' +
    'cpu1..: run mmA with 0x1000 cached, context_switch to a kernel thread (lazy), back to mmA, user access.',
  cpus: { min: 2, max: 4, default: 2 },
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const oldPage = w.dataPage();
    const newPage = w.dataPage();
    const ptep = w.mapUser(A, VA, oldPage);
    const flusher: Program = function* (k: K<CoreRoutines>) {
      yield* set_pte_at(k, ptep, makeEntry(newPage));
      yield* k.r.flush_tlb_mm_range(k, A.id, VA, VA + PAGE_SIZE, false);
    };
    const lazy = inSegments(
      (k) => k.r.context_switch(k, NO_MM),
      (k) => k.r.context_switch(k, A.id),
      function* (k) {
        yield* k.r.user_access(k, VA, false);
      },
    );
    const starts = [idleStart()];
    const programs = [flusher];
    for (let c = 1; c < cpus; c++) {
      starts.push(userStart(A.id, [VA]));
      programs.push(lazy);
    }
    return w.build([VA], starts, programs);
  },
};
