/**
 * `spin-scaled`: the scenario of the SPIN reference models s1 and s4 (`s4_scaled.pml`, run
 * by `npm run bench -- --vs-spin`, bench/spin.ts; s1 is its 2-CPU, 1-round case), so the
 * benchmark can put tlbcheck's time-to-verdict next to SPIN's on the same question.
 *
 * cpu0 (a kernel thread, never in mm_cpumask(A)) changes A's PTE of 0x1000 and flushes it,
 * once or twice (`ops` = rounds). cpu1 (and cpu4) run mm B while an ASID slot still holds A
 * with the old translation cached and the cpumask bit still set (lazy mm_cpumask); each
 * switches B -> A and touches 0x1000. cpu2 is a lazy kernel thread on A with the old entry
 * cached; it switches back to A's user thread and touches 0x1000. cpu3 runs A in user mode
 * and touches 0x1000 twice.
 *
 * Differences from the Promela model, none of which changes the question: our kernel
 * routines are the variant's own (their steps are finer than the Promela d_steps), the walker
 * also walks 0x1000 in B's tree (B maps nothing there), and without PCID a generation
 * starts its CPUs with empty caches for other mms.
 */
import type { K } from '../kernel/fx.ts';
import type { CoreRoutines, CpuStart } from '../kernel/variant.ts';
import { set_pte_at } from '../kernel/common/sched.ts';
import { makeEntry, PAGE_SIZE } from '../machine/types.ts';
import { type Program, type Scenario, WorldBuilder, idleStart, inSegments, lazyStart, userStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

const ROUNDS = { min: 1, max: 2, default: 1, what: 'flush rounds by cpu0 (PTE OLD -> NEW, then NEW -> NEW2)' };

export const spinScaled: Scenario = {
  id: 'spin-scaled',
  title: 'the SPIN anchors s1/s4: one flusher, B->A switchers with a stale ASID slot, a lazy CPU, a user CPU',
  description:
    'cpu0: set_pte(A, 0x1000) + flush_tlb_mm_range(A), `ops` rounds. cpu1, cpu4: run mmB with A stale in an ASID slot ' +
    '(bit still set), switch to mmA, access. cpu2: lazy on mmA, back to mmA, access. cpu3: user on mmA, access twice.',
  cpus: { min: 2, max: 5, default: 2 },
  ops: ROUNDS,
  build: ({ cpus, ops }) => {
    const rounds = ops ?? ROUNDS.default;
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const B = w.addMm('mmB');
    const pages = [w.dataPage(), w.dataPage(), w.dataPage()];
    const ptep = w.mapUser(A, VA, pages[0]!);
    const round = (r: number): Program =>
      function* (k: K<CoreRoutines>) {
        yield* set_pte_at(k, ptep, makeEntry(pages[r]!));
        yield* k.r.flush_tlb_mm_range(k, A.id, VA, VA + PAGE_SIZE, false);
      };
    const flusher = inSegments(...Array.from({ length: rounds }, (_, i) => round(i + 1)));
    const access: Program = function* (k: K<CoreRoutines>) {
      yield* k.r.user_access(k, VA, false);
    };
    const switcher = inSegments((k) => k.r.context_switch(k, A.id), access);
    const lazyBack: Program = switcher;
    const user = inSegments(access, access);
    const staleB: CpuStart = { ...userStart(B.id), others: [{ mm: A.id, cached: [VA], inMask: true }] };
    const starts: CpuStart[] = [idleStart(), staleB, lazyStart(A.id, [VA]), userStart(A.id, [VA]), staleB];
    const programs: Program[] = [flusher, switcher, lazyBack, user, switcher];
    return w.build([VA], starts.slice(0, cpus), programs.slice(0, cpus));
  },
};
