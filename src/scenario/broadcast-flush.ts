/**
 * `broadcast-flush` and `broadcast-transition`: AMD broadcast invalidation (Linux 6.15+,
 * arch/x86/mm/tlb.c broadcast_tlb_flush; needs `--features pcid,invlpgb`).
 *
 * mmA holds a global ASID (mm->context.global_asid, handed out at boot: the allocator is
 * not modelled). cpu0, in a syscall of mmA, changes a PTE and flushes it; every other CPU
 * runs mmA in user mode with the old translation cached and touches the page. The flush
 * sends no IPI: INVLPGB invalidates the global PCID everywhere, and TLBSYNC waits for it.
 *
 * `broadcast-transition`: the last CPU still runs mmA on its dynamic ASID slot (the
 * transition to the global ASID has not reached it: asid_transition is set). The broadcast
 * of the global PCID does not touch that slot, so finish_asid_transition() must send it the
 * IPI flush, which also moves it to the global ASID.
 */
import type { K } from '../kernel/fx.ts';
import type { CoreRoutines, CpuStart } from '../kernel/variant.ts';
import { set_pte_at } from '../kernel/common/sched.ts';
import { NR_DYN_ASIDS } from '../kernel/common/asid.ts';
import { makeEntry, PAGE_SIZE } from '../machine/types.ts';
import { type Program, type Scenario, WorldBuilder } from './world.ts';

export const VA = 0x1000;
/** The global ASID mmA holds: the first one above the dynamic range. */
const GLOBAL_ASID = NR_DYN_ASIDS + 1;

function build(cpus: number, straggler: boolean) {
  const w = new WorldBuilder();
  const A = w.addMm('mmA');
  const oldPage = w.dataPage();
  const newPage = w.dataPage();
  const ptep = w.mapUser(A, VA, oldPage);
  const flusher: Program = function* (k: K<CoreRoutines>) {
    yield* set_pte_at(k, ptep, makeEntry(newPage));
    yield* k.r.flush_tlb_mm_range(k, A.id, VA, VA + PAGE_SIZE, false);
  };
  const user: Program = function* (k: K<CoreRoutines>) {
    yield* k.r.user_access(k, VA, false);
  };
  const start = (onGlobal: boolean): CpuStart => ({ mode: 'user', mm: A.id, cached: [VA], globalAsid: { asid: GLOBAL_ASID, onGlobal } });
  const starts = [start(true)];
  const programs = [flusher];
  for (let c = 1; c < cpus; c++) {
    starts.push(start(!(straggler && c === cpus - 1)));
    programs.push(user);
  }
  return w.build([VA], starts, programs);
}

export const broadcastFlush: Scenario = {
  id: 'broadcast-flush',
  title: 'mmA on a global ASID: cpu0 changes a PTE and flushes by INVLPGB; the others use the page',
  description:
    'mmA holds global ASID 3 on every CPU (INVLPGB). cpu0 (in a syscall of mmA): set_pte(A, 0x1000) then ' +
    'flush_tlb_mm_range(A) (broadcast_tlb_flush: INVLPGB, TLBSYNC). cpu1..: user access of 0x1000, cached.',
  cpus: { min: 2, max: 4, default: 2 },
  features: ['pcid', 'invlpgb'],
  build: (p) => build(p.cpus, false),
};

export const broadcastTransition: Scenario = {
  id: 'broadcast-transition',
  title: 'as broadcast-flush, but the last CPU still runs mmA on its dynamic ASID (asid_transition)',
  description:
    'mmA holds global ASID 3; the last CPU has not moved to it yet (asid_transition set). cpu0: set_pte(A, 0x1000) ' +
    'then flush_tlb_mm_range(A) (INVLPGB of the global PCID, finish_asid_transition IPIs the straggler, TLBSYNC). ' +
    'cpu1..: user access of 0x1000, cached.',
  cpus: { min: 2, max: 4, default: 2 },
  features: ['pcid', 'invlpgb'],
  build: (p) => build(p.cpus, true),
};
