/**
 * `switch-vs-flush` (the ordering constraint of seed 004, docs/seeds.md). cpu0 changes a PTE of mm A and flushes
 * it without running A itself (reclaim, khugepaged: no local flush instruction orders its PTE
 * store). Every other CPU runs mm B, switches to A and then touches the address from user
 * mode. The walker may fill at any time. With PCID, the switchers' other ASID slot still caches
 * mmA's old translation (scenario 1 of the SPIN anchors).
 *
 * `switch-vs-flush-local` is the same with cpu0 inside a syscall of A (mprotect, munmap), so
 * the flush also runs locally.
 */
import type { K } from '../kernel/fx.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { set_pte_at } from '../kernel/common/sched.ts';
import { makeEntry, PAGE_SIZE } from '../machine/types.ts';
import { type Program, type Scenario, WorldBuilder, idleStart, inSegments, userStart } from './world.ts';

export const VA = 0x1000;

function build(cpus: number, flusherRunsA: boolean) {
  const w = new WorldBuilder();
  const A = w.addMm('mmA');
  const B = w.addMm('mmB');
  const oldPage = w.dataPage();
  const newPage = w.dataPage();
  const ptep = w.mapUser(A, VA, oldPage);
  const flusher: Program = function* (k: K<CoreRoutines>) {
    yield* set_pte_at(k, ptep, makeEntry(newPage));
    yield* k.r.flush_tlb_mm_range(k, A.id, VA, VA + PAGE_SIZE, false);
  };
  const switcher = inSegments(
    (k) => k.r.context_switch(k, A.id),
    function* (k) {
      yield* k.r.user_access(k, VA, false);
    },
  );
  const starts = [flusherRunsA ? userStart(A.id) : idleStart()];
  const programs = [flusher];
  // PCID generations: the switcher's other ASID slot still holds mmA's old translation
  // (mmA ran there before), with its cpumask bit still set where the generation keeps it.
  const switcherStart = { ...userStart(B.id), others: [{ mm: A.id, cached: [VA], inMask: true }] };
  for (let c = 1; c < cpus; c++) {
    starts.push(switcherStart);
    programs.push(switcher);
  }
  return w.build([VA], starts, programs);
}

export const switchVsFlush: Scenario = {
  id: 'switch-vs-flush',
  title: 'cpu0 changes a PTE of mmA and flushes; the others switch mmB -> mmA and touch it',
  description:
    'cpu0 (kernel thread, not in mm_cpumask(A)): set_pte(A, 0x1000) then flush_tlb_mm_range(A). ' +
    'cpu1..: run mmB (PCID: another ASID slot still caches mmA 0x1000), context_switch to mmA, user access of 0x1000.',
  cpus: { min: 2, max: 4, default: 2 },
  build: (p) => build(p.cpus, false),
};

export const switchVsFlushLocal: Scenario = {
  id: 'switch-vs-flush-local',
  title: 'as switch-vs-flush, but cpu0 runs mmA itself, so the flush also runs locally',
  description:
    'cpu0 (in a syscall of mmA): set_pte(A, 0x1000) then flush_tlb_mm_range(A) with a local flush. ' +
    'cpu1..: run mmB, context_switch to mmA, user access of 0x1000.',
  cpus: { min: 2, max: 4, default: 2 },
  build: (p) => build(p.cpus, true),
};
