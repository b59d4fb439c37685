/**
 * `collapse-flush`: khugepaged collapses the PTE page of mmA into a huge page
 * (mm/khugepaged.c collapse_pte_mapped_thp): pmdp_collapse_flush() clears the pmd with
 * pmdp_huge_get_and_clear() (XCHG) and flushes the pmd's range with flush_tlb_range(); the
 * PTE page is then freed (pte_free_defer(): after an RCU grace period, which does not wait
 * for hardware walkers) and reused. cpu1.. are kernel threads running lazily on mmA with the
 * pmd in their paging-structure caches; afterwards they switch back to mmA's user thread.
 * Like `lazy-free-pgtables`, but the flush comes from a caller that zaps a table through the
 * generic flush_tlb_range(), the path of 3ef938c35035 (CVE-2025-22045).
 *
 * Simplified: the huge pmd that collapse installs afterwards is not modelled (no huge pages):
 * the pmd stays clear, and the lazy CPUs' final access of 0x1000 then faults, as an access
 * after a cleared pmd does before the fault handler runs. The flushed range is the pmd's,
 * 16 pages in this model (ENTRIES), under the single-page ceiling.
 */
import type { K } from '../kernel/fx.ts';
import { call, freePage, reusePage, xchg } from '../kernel/fx.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { UserError } from '../errors.ts';
import { ENTRIES, PAGE_SIZE, makeEntry } from '../machine/types.ts';
import { type Program, type Scenario, WorldBuilder, idleStart, inSegments, lazyStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

export const collapseFlush: Scenario = {
  id: 'collapse-flush',
  title: 'khugepaged collapses a PTE page of mmA (pmdp_collapse_flush, flush_tlb_range) while cpu1.. run lazily on mmA',
  description:
    'cpu0 (khugepaged): xchg the pmd of 0x1000 to 0, flush_tlb_range(mmA, pmd range), free and reuse the PTE page. ' +
    'cpu1..: lazy on mmA with 0x1000 and its upper entry cached; context_switch back to mmA, user access.',
  cpus: { min: 2, max: 4, default: 2 },
  requires: ['flush_tlb_range'],
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    w.mapUser(A, VA, w.dataPage());
    const table = w.leafTable(A, VA);
    const pmdp = w.pmdLoc(A, VA);
    const start = Math.floor(VA / (ENTRIES * PAGE_SIZE)) * ENTRIES * PAGE_SIZE;
    const junk = makeEntry(w.dataPage());
    const khugepaged: Program = function* (k: K<CoreRoutines>) {
      const flushRange = k.r.flush_tlb_range;
      if (!flushRange) throw new UserError('scenario collapse-flush needs a variant with flush_tlb_range (e.g. linux-6.18)');
      yield* call(
        'collapse_pte_mapped_thp',
        (function* () {
          yield* call(
            'pmdp_collapse_flush',
            (function* () {
              yield* xchg(pmdp, 0, 'pmdp_huge_get_and_clear');
              yield* flushRange(k, A.id, start, start + ENTRIES * PAGE_SIZE);
            })(),
          );
          yield* freePage(table, 'pte_free_defer: freed after the RCU grace period');
          yield* reusePage(table, junk, 'page reused');
        })(),
      );
    };
    const lazy = inSegments(
      (k) => k.r.context_switch(k, A.id),
      function* (k) {
        yield* k.r.user_access(k, VA, false);
      },
    );
    const starts = [idleStart()];
    const programs = [khugepaged];
    for (let c = 1; c < cpus; c++) {
      starts.push(lazyStart(A.id, [VA]));
      programs.push(lazy);
    }
    return w.build([VA], starts, programs);
  },
};
