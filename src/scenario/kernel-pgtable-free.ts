/**
 * `kernel-pgtable-free`: a kernel page table is freed while another CPU's paging-structure
 * cache still holds the upper entry that pointed to it. This is what a huge ioremap or huge
 * vmalloc mapping does when it replaces a range that 4K pages used to map: ioremap_try_huge_pmd()
 * / vmap_try_huge_pmd() call pmd_free_pte_page() (arch/x86/mm/pgtable.c), which clears the pmd
 * and frees the PTE page, and then install the huge entry.
 *
 * cpu0 (kernel thread on init_mm): pmd_free_pte_page(pmd of 0x80000, 0x80000), then the freed
 * table page is reused (as the page allocator may hand it to anyone at once). cpu1..: kernel
 * threads on init_mm whose TLB and paging-structure cache hold 0x80000 (and so the upper
 * entry): they touch another kernel page, 0x90000, while their walkers may walk any address of
 * the scenario at any time. A walk of 0x80000 through the cached upper entry reads the freed
 * page unless every CPU's paging-structure cache was invalidated before the free (5e0fb5df2ee6).
 *
 * Simplified: the model has two levels, so the "pmd" is the upper entry, and it lives in
 * init_mm's tree only (every CPU runs on init_mm), as the kernel's pmd pages are shared by
 * every mm; the huge entry pmd_set_huge() installs afterwards is not modelled (no huge pages;
 * nothing here uses the new mapping).
 */
import type { K } from '../kernel/fx.ts';
import { call, reusePage } from '../kernel/fx.ts';
import { INIT_MM } from '../kernel/layout.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { UserError } from '../errors.ts';
import { entryPfn, makeEntry } from '../machine/types.ts';
import { KVA, kernel_access } from './kernel-range-flush.ts';
import { type Program, type Scenario, WorldBuilder, idleStart } from './world.ts';

/** Another kernel page, in the next upper slot: what the other CPUs touch meanwhile. */
export const KVA2 = 0x90000;

export const kernelPgtableFree: Scenario = {
  id: 'kernel-pgtable-free',
  title: 'cpu0 frees a kernel PTE page (huge ioremap/vmalloc: pmd_free_pte_page); cpu1.. cache its upper entry',
  description:
    'cpu0 (kernel thread): pmd_free_pte_page(pmd of 0x80000, 0x80000) (pmd_clear, flush, free_page), then the page is reused. ' +
    'cpu1..: kernel threads on init_mm with 0x80000 and its upper entry cached; kernel access of 0x90000.',
  cpus: { min: 2, max: 4, default: 2 },
  requires: ['pmd_free_pte_page'],
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    w.mapKernel(KVA, w.dataPage(), false);
    w.mapKernel(KVA2, w.dataPage(), false);
    const pmd = w.pmdLoc(w.mms[INIT_MM]!, KVA);
    const table = entryPfn(w.memory.get(pmd)!);
    const junk = makeEntry(w.dataPage());
    const freer: Program = function* (k: K<CoreRoutines>) {
      if (!k.r.pmd_free_pte_page) throw new UserError('scenario kernel-pgtable-free needs a variant with pmd_free_pte_page (e.g. linux-4.20)');
      yield* k.r.pmd_free_pte_page(k, pmd, KVA);
      yield* call('page allocator', reusePage(table, junk, 'page reused'));
    };
    const other: Program = function* (k: K<CoreRoutines>) {
      yield* kernel_access(k, KVA2);
    };
    const starts = [idleStart()];
    const programs = [freer];
    for (let c = 1; c < cpus; c++) {
      starts.push({ mode: 'idle', mm: INIT_MM, cached: [KVA] });
      programs.push(other);
    }
    return w.build([KVA, KVA2], starts, programs);
  },
};
