/**
 * `kernel-range-flush` (seed 001, docs/seeds.md). A kernel page is remapped and flushed with
 * `flush_tlb_kernel_range()` while cpu1.. hold the old translation in two PCIDs: the one of
 * the mm they run (mm B) and the one of mm A, cached in another ASID slot. Afterwards they
 * switch to A, which needs no flush by its `tlb_gen`, and touch the kernel address.
 *
 * The kernel page is mapped non-global, as under PTI (kernel PTEs lose _PAGE_GLOBAL): on a
 * kernel without PTI the mapping would be global and INVLPG would reach every PCID. Needs a
 * variant with `flush_tlb_kernel_range` (linux-4.15-pti).
 *
 * `kernel-range-flush-global`: the same world with the kernel page mapped global, as every
 * kernel without PTI maps it when the CPU has PGE (`__supported_pte_mask |= _PAGE_GLOBAL`,
 * arch/x86/mm/init.c; without CR4.PGE the hardware ignores the bit). INVLPG then reaches the
 * global entry whatever the PCID, so no `invalidate_other` is needed: unless the CPU has the
 * `invlpg-miss` erratum and PCID is on (ce0b15d11ad8).
 *
 * `kernel-range-flush-all`: as the global one, with a range of 64 pages, over the single-page
 * ceiling (`tlb_single_page_flush_ceiling`, 33): `flush_tlb_kernel_range()` takes the
 * `do_flush_tlb_all()` path, `__flush_tlb_all()` on every CPU, which chooses by feature
 * between INVPCID (all contexts, globals included), the CR4.PGE toggle, and a CR3 reload
 * without PGE (that last one reaches only the current PCID: setup_pcid() turns PCID off
 * without PGE for that reason, 660da7c9228f).
 */
import { UserError } from '../errors.ts';
import { type K, type Routine, access, call, store } from '../kernel/fx.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { makeEntry, PAGE_SIZE } from '../machine/types.ts';
import { type Program, type Scenario, WorldBuilder, idleStart, inSegments } from './world.ts';

/** A kernel virtual address, in its own upper-table slot (a vmalloc/module page). */
export const KVA = 0x80000;

/** The kernel touches `va` (the access goes through the current, kernel, PCID). */
export function* kernel_access(_k: K<CoreRoutines>, va: number): Routine {
  yield* call('kernel access', access(va, false, 'kernel reads va'));
}

/** The kernel-range flush world: the page `global` or not, the flushed range `pages` long. */
function build(cpus: number, global: boolean, pages: number) {
  const w = new WorldBuilder();
  const kpte = w.mapKernel(KVA, w.dataPage(), global);
  const newPage = w.dataPage();
  const A = w.addMm('mmA');
  const B = w.addMm('mmB');
  w.userPgd(A);
  w.userPgd(B);
  const flusher: Program = function* (k: K<CoreRoutines>) {
    if (!k.r.flush_tlb_kernel_range) throw new UserError('this scenario needs a variant with flush_tlb_kernel_range (e.g. linux-6.18)');
    yield* call('set_pte (kernel)', store(kpte, makeEntry(newPage, global), 'set_pte'));
    yield* k.r.flush_tlb_kernel_range(k, KVA, KVA + pages * PAGE_SIZE);
  };
  const switcher = inSegments(
    (k) => k.r.context_switch(k, A.id),
    function* (k) {
      yield* kernel_access(k, KVA);
    },
  );
  const starts = [idleStart()];
  const programs = [flusher];
  for (let c = 1; c < cpus; c++) {
    starts.push({ mode: 'user', mm: B.id, cached: [KVA], others: [{ mm: A.id, cached: [KVA], inMask: false }] });
    programs.push(switcher);
  }
  return w.build([KVA], starts, programs);
}

export const kernelRangeFlushGlobal: Scenario = {
  id: 'kernel-range-flush-global',
  title: 'as kernel-range-flush, with the kernel page global (no PTI): INVLPG must reach it in every PCID',
  description:
    'cpu0 (kernel thread): set the kernel PTE of 0x80000 (global), flush_tlb_kernel_range of one page. ' +
    'cpu1..: run mmB with 0x80000 cached, mmA cached in another ASID slot; context_switch to mmA, kernel access of 0x80000.',
  cpus: { min: 2, max: 4, default: 2 },
  requires: ['flush_tlb_kernel_range'],
  build: ({ cpus }) => build(cpus, true, 1),
};

export const kernelRangeFlushAll: Scenario = {
  id: 'kernel-range-flush-all',
  title: 'as kernel-range-flush-global, over 64 pages: every CPU runs __flush_tlb_all()',
  description:
    'cpu0 (kernel thread): set the kernel PTE of 0x80000 (global), flush_tlb_kernel_range of 64 pages (over the ceiling: ' +
    'do_flush_tlb_all, __flush_tlb_all on every CPU). cpu1..: run mmB with 0x80000 cached, mmA cached in another ASID slot; ' +
    'context_switch to mmA, kernel access of 0x80000.',
  cpus: { min: 2, max: 4, default: 2 },
  requires: ['flush_tlb_kernel_range'],
  build: ({ cpus }) => build(cpus, true, 64),
};

export const kernelRangeFlush: Scenario = {
  id: 'kernel-range-flush',
  title: 'cpu0 remaps a kernel page and flushes it; cpu1.. hold it in two PCIDs, switch and touch it',
  description:
    'cpu0 (kernel thread): set the kernel PTE of 0x80000 (non-global), flush_tlb_kernel_range. ' +
    'cpu1..: run mmB with 0x80000 cached, mmA cached in another ASID slot; context_switch to mmA, kernel access of 0x80000.',
  cpus: { min: 2, max: 4, default: 2 },
  requires: ['flush_tlb_kernel_range'],
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const kpte = w.mapKernel(KVA, w.dataPage(), false);
    const newPage = w.dataPage();
    const A = w.addMm('mmA');
    const B = w.addMm('mmB');
    w.userPgd(A);
    w.userPgd(B);
    const flusher: Program = function* (k: K<CoreRoutines>) {
      if (!k.r.flush_tlb_kernel_range) throw new UserError('scenario kernel-range-flush needs a variant with flush_tlb_kernel_range (e.g. linux-4.15-pti)');
      yield* call('set_pte (kernel)', store(kpte, makeEntry(newPage), 'set_pte'));
      yield* k.r.flush_tlb_kernel_range(k, KVA, KVA + PAGE_SIZE);
    };
    const switcher = inSegments(
      (k) => k.r.context_switch(k, A.id),
      function* (k) {
        yield* kernel_access(k, KVA);
      },
    );
    const starts = [idleStart()];
    const programs = [flusher];
    for (let c = 1; c < cpus; c++) {
      starts.push({ mode: 'user', mm: B.id, cached: [KVA], others: [{ mm: A.id, cached: [KVA], inMask: false }] });
      programs.push(switcher);
    }
    return w.build([KVA], starts, programs);
  },
};
