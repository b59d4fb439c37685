/**
 * `pti-return-to-user` (seeds 000 and 001, docs/seeds.md). cpu1.. run a user thread of mm B with 0x1000
 * cached in the user PCID, switch to mm A and return to user twice, touching 0x1000 each
 * time. cpu0 meanwhile changes A's PTE for 0x1000 and flushes A. Each mm has a separate
 * user pgd. The user PCID must serve neither B's translation after the switch (KAISER: one
 * user PCID for every mm) nor A's old one after the flush returned (the deferred user flush).
 */
import type { K } from '../kernel/fx.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { set_pte_at } from '../kernel/common/sched.ts';
import { makeEntry, PAGE_SIZE } from '../machine/types.ts';
import { type Program, type Scenario, WorldBuilder, idleStart, inSegments, userStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

export const ptiReturnToUser: Scenario = {
  id: 'pti-return-to-user',
  title: 'cpu1.. switch mmB -> mmA and return to user twice while cpu0 changes and flushes mmA',
  description:
    'cpu0 (kernel thread): set_pte(A, 0x1000) then flush_tlb_mm_range(A). ' +
    'cpu1..: run mmB with 0x1000 cached (user PCID too), context_switch to mmA, return to user and access 0x1000, twice.',
  cpus: { min: 2, max: 4, default: 2 },
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const B = w.addMm('mmB');
    const ptep = w.mapUser(A, VA, w.dataPage());
    w.mapUser(B, VA, w.dataPage());
    const newPage = w.dataPage();
    w.userPgd(A);
    w.userPgd(B);
    const flusher: Program = function* (k: K<CoreRoutines>) {
      yield* set_pte_at(k, ptep, makeEntry(newPage));
      yield* k.r.flush_tlb_mm_range(k, A.id, VA, VA + PAGE_SIZE, false);
    };
    const access: Program = function* (k) {
      yield* k.r.user_access(k, VA, false);
    };
    const switcher = inSegments((k) => k.r.context_switch(k, A.id), access, access);
    const starts = [idleStart()];
    const programs = [flusher];
    for (let c = 1; c < cpus; c++) {
      starts.push(userStart(B.id, [VA]));
      programs.push(switcher);
    }
    return w.build([VA], starts, programs);
  },
};
