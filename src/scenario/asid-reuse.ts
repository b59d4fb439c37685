/**
 * `asid-reuse` (the generation of seed 001, docs/seeds.md; 4.14+). More mms than ASID slots rotate through
 * cpu1.., so slots are recycled, while cpu0 changes a PTE of mmA and flushes it.
 *
 * cpu1.. start as a kernel thread on init_mm whose other ASID slot still holds mmA's
 * translation of 0x1000 (mmA ran there before; with the 6.x lazy cpumask its bit is still
 * set). They then run user tasks of mmB, mmC, ... and finally mmA, and touch 0x1000. With the
 * default 3 mms and 2 modelled slots, mmB recycles mmA's slot and mmA later gets that slot
 * back: a slot handed out without a flush still holds mmA's entry from before cpu0's flush.
 * With 2 mms, mmA comes back to a fresh slot; with 4, to a slot last used by mmC.
 * Without PCID the scenario still runs (every CR3 write flushes).
 */
import type { K } from '../kernel/fx.ts';
import type { CoreRoutines, CpuStart } from '../kernel/variant.ts';
import { set_pte_at } from '../kernel/common/sched.ts';
import { INIT_MM } from '../kernel/layout.ts';
import { makeEntry, PAGE_SIZE } from '../machine/types.ts';
import { type Program, type Scenario, WorldBuilder, idleStart, inSegments } from './world.ts';
import { VA } from './switch-vs-flush.ts';

const NAMES = ['mmA', 'mmB', 'mmC', 'mmD'];
const MMS = { min: 2, max: 4, default: 3, what: 'user mms rotated through cpu1.. (mmA last)' };

export const asidReuse: Scenario = {
  id: 'asid-reuse',
  title: 'cpu1.. rotate more mms than ASID slots while cpu0 changes and flushes mmA',
  description:
    'cpu0 (kernel thread): set_pte(A, 0x1000) then flush_tlb_mm_range(A). ' +
    'cpu1..: on init_mm, an unloaded ASID slot still caching mmA 0x1000; context_switch to mmB, mmC, ..., then mmA; user access of 0x1000.',
  cpus: { min: 2, max: 4, default: 2 },
  mms: MMS,
  build: ({ cpus, mms }) => {
    const n = mms ?? MMS.default;
    const w = new WorldBuilder();
    const all = NAMES.slice(0, n).map((name) => w.addMm(name));
    const A = all[0]!;
    const pages = all.map(() => w.dataPage());
    const newPage = w.dataPage();
    const pteps = all.map((mm, i) => w.mapUser(mm, VA, pages[i]!));
    const flusher: Program = function* (k: K<CoreRoutines>) {
      yield* set_pte_at(k, pteps[0]!, makeEntry(newPage));
      yield* k.r.flush_tlb_mm_range(k, A.id, VA, VA + PAGE_SIZE, false);
    };
    const rotator = inSegments(
      ...[...all.slice(1), A].map((mm): Program => (k) => k.r.context_switch(k, mm.id)),
      function* (k) {
        yield* k.r.user_access(k, VA, false);
      },
    );
    const rotStart: CpuStart = { ...idleStart(), mm: INIT_MM, others: [{ mm: A.id, cached: [VA], inMask: true }] };
    const starts: CpuStart[] = [idleStart()];
    const programs = [flusher];
    for (let c = 1; c < cpus; c++) {
      starts.push(rotStart);
      programs.push(rotator);
    }
    return w.build([VA], starts, programs);
  },
};
