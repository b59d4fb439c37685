/**
 * mm lifetimes: the reference counts of an mm and what happens when they reach zero, as the
 * scheduler, fork and exit do them (kernel/fork.c, kernel/exit.c, kernel/sched/core.c,
 * include/linux/sched/mm.h, v4.14 through v6.18, which agree on all of this). Glue around the
 * generation's C: init_new_context(), exit_mmap() and destroy_context() are C where the
 * generation defines them (its tlb.c, common/mm.c, mm/mmap.c).
 *
 * - `mm_users` counts the tasks using the address space; when it drops to zero, mmput()
 *   tears the address space down (exit_mmap) and drops the users' reference on `mm_count`.
 * - `mm_count` counts references to the mm_struct itself: one for all users, plus one per
 *   task that borrows it as `active_mm` (a kernel thread in lazy TLB mode, an exiting task);
 *   when it drops to zero, __mmdrop() frees the pgd (pgd_free), the arch context
 *   (destroy_context) and the struct (free_mm), and the address may be handed out again.
 * - fork's dup_mm() allocates the child's mm_struct (allocate_mm: the scenario's worst case is
 *   the address of an mm that was just freed), initialises it (mm_init: counts 1, an empty
 *   cpumask, init_new_context(), pgd_alloc()) and copies the parent's page tables (dup_mmap);
 *   wake_up_new_task() then makes the child runnable (its runqueue lock is LOCK'd).
 *
 * Simplified, and why that is safe:
 * - The counts are LOCK'd RMWs on words of the mm slot, as atomic_inc/atomic_dec_and_test are.
 * - The slab's own state (`slab`) is one word per slot: free_mm() clears it with XCHG and
 *   allocate_mm() takes it with CMPXCHG once it reads 0 (SLUB's cmpxchg on the freelist).
 * - dup_mmap() writes the child's tables before anyone can reach the child, so they are
 *   handed out filled (alloc-table), as pgd_alloc() hands out a pgd with the kernel's entries.
 * - mmap_lock, the vma tree, rss counters, mm_update_next_owner() and the core-dump wait
 *   touch no state the model has.
 */
import { UserError } from '../../errors.ts';
import type { LaterMm, World } from '../../scenario/world.ts';
import { type K, type Routine, allocTable, call, cmpxchg, freePage, irqDisable, irqEnable, load, mmLife, preemptCount, smpMb, store, userRunning, waitUntil, xadd, xchg } from '../fx.ts';
import { INIT_MM, type Layout, type MmInfo, NO_MM } from '../layout.ts';
import type { MmId } from '../../machine/types.ts';
import { makeEntry } from '../../machine/types.ts';
import type { CoreRoutines } from '../variant.ts';
import type { Val } from '../../kc/ir.ts';

/** Whether the scenario's mms are born and die (its state then has `last_mm_ctx_id`). */
export const lifetimes = (L: Layout): boolean => L.hasVar('last_mm_ctx_id');

const mmVal = (id: MmId): Val => ({ t: 'mm', id });

/** `mmgrab(mm)`: atomic_inc(&mm->mm_count). */
export function* mmgrab(k: K<CoreRoutines>, mm: MmId): Routine {
  if (mm === INIT_MM) return; // init_mm is never freed: its count is not modelled
  yield* xadd(k.L.mmField(mm, 'mm_count'), 1, 'mmgrab');
}

/** `mmdrop(mm)`: atomic_dec_and_test(&mm->mm_count), and __mmdrop() on the last reference. */
export function* mmdrop(k: K<CoreRoutines>, mm: MmId): Routine {
  if (mm === INIT_MM) return;
  if ((yield* xadd(k.L.mmField(mm, 'mm_count'), -1, 'mmdrop')) !== 1) return;
  yield* call(
    '__mmdrop',
    (function* () {
      // pgd_free(): the pgd page goes back to the page allocator.
      yield* freePage(k.L.mm(mm).pgd, 'pgd_free');
      // destroy_context(): the arch context (6.15+: mm_free_global_asid), where the C has it.
      if (k.r.has_c?.('destroy_context')) yield* k.r.call_c!(k, 'destroy_context', { mm: mmVal(mm) });
      // free_mm(): the struct goes back to its cache; from now on the address may be reused.
      yield* mmLife(mm, false);
      yield* xchg(k.L.mmField(mm, 'slab'), 0, 'free_mm');
    })(),
  );
}

/** `mmput(mm)`: atomic_dec_and_test(&mm->mm_users); the last user tears the address space down. */
export function* mmput(k: K<CoreRoutines>, mm: MmId, vma: { readonly start: number; readonly end: number }): Routine {
  if (mm === INIT_MM) return;
  if ((yield* xadd(k.L.mmField(mm, 'mm_users'), -1, 'mmput')) !== 1) return;
  yield* call(
    '__mmput',
    (function* () {
      if (!k.r.has_c?.('exit_mmap')) throw new UserError('the variant defines no exit_mmap() (src/kernel/c/common/mm.c links one into every C generation)');
      yield* k.r.call_c!(k, 'exit_mmap', { mm: mmVal(mm), start: vma.start, end: vma.end });
      yield* mmdrop(k, mm);
    })(),
  );
}

/**
 * Allocate and initialise the later mm `l` at its slot, as fork's `dup_mm()` and exec's
 * `mm_alloc()` do: the struct (waiting until the slab has the address free), mm_init (counts,
 * cpumask, init_new_context, pgd_alloc), and its page tables (dup_mmap for a fork; for an
 * exec, the argument pages bprm_mm_init()/copy_strings() fault in and the binary's mappings).
 */
function* allocMm(k: K<CoreRoutines>, l: LaterMm): Routine {
  const L = k.L;
  const mm = l.slot;
  // allocate_mm(): the cache hands out this address once it is free.
  const slab = L.mmField(mm, 'slab');
  for (;;) {
    yield* waitUntil(slab, (v) => v === 0, `${L.mmName(mm)}'s address to be free (kmem_cache_alloc)`, 'allocate_mm');
    if ((yield* cmpxchg(slab, 0, 1, 'allocate_mm')) === 0) break;
  }
  yield* store(L.mmField(mm, 'mm_users'), 1, 'mm_init: atomic_set(&mm->mm_users, 1)');
  yield* store(L.mmField(mm, 'mm_count'), 1, 'mm_init: atomic_set(&mm->mm_count, 1)');
  yield* store(L.cpumask(mm), 0, 'mm_init_cpumask');
  yield* store(L.mmField(mm, 'pasid'), 0, 'mm_init');
  if (k.r.has_c?.('init_new_context')) yield* k.r.call_c!(k, 'init_new_context', { tsk: 0, mm: mmVal(mm) });
  for (const t of l.tables) {
    if (!(yield* allocTable(t.pfn, 'leaf', mm, t.words, 'pte_alloc'))) throw new UserError(`allocating ${l.name}: its PTE page pfn ${t.pfn} is still in use`);
  }
  const pgd = L.mm(mm).pgd;
  const upper: (readonly [number, number])[] = [...l.kernel, ...l.tables.map((t) => [t.ui, makeEntry(t.pfn)] as const)];
  if (!(yield* allocTable(pgd, 'upper', mm, upper, 'pgd_alloc'))) throw new UserError(`allocating ${l.name}: the pgd page pfn ${pgd} is still in use`);
  yield* mmLife(mm, true);
}

/**
 * fork's `dup_mm()` for the later mm `l` (allocMm), then wake_up_new_task() (a LOCK'd
 * runqueue lock: the child's mm is published) and the ghost's note that the child may now
 * run (`<name>.born`).
 */
export function* dup_mm(k: K<CoreRoutines>, l: LaterMm): Routine {
  yield* call(
    'dup_mm',
    (function* () {
      yield* allocMm(k, l);
      yield* smpMb('wake_up_new_task: rq lock');
      yield* store(k.L.varLoc(`${l.name}.born`), 1, 'wake_up_new_task');
    })(),
  );
}

/**
 * execve()'s new mm and `exec_mmap()` (fs/exec.c, v4.14 through v6.18): bprm_mm_init() ->
 * mm_alloc() allocates the later mm `l` (allocMm); then, under task_lock, the task's mm and
 * active_mm become it and activate_mm() switches to it with IRQs off (4.14's switch_mm() saves
 * and restores them; 6.x disables them around it); then the old mm is given up: mmput() of
 * current->mm, or, for a kernel thread that execs, mmdrop() of the borrowed active_mm.
 * `vmaOf`: the one vma of the old mm (for its exit_mmap).
 */
export function* exec_mmap(k: K<CoreRoutines>, l: LaterMm, vmaOf: (mm: MmId) => { readonly start: number; readonly end: number }): Routine {
  const L = k.L;
  const mm = l.slot;
  yield* call(
    'exec_mmap',
    (function* () {
      yield* call('mm_alloc', allocMm(k, l));
      const old = yield* load(L.pcpu(k.cpu, 'cur_mm'));
      yield* preemptCount(1); // task_lock(tsk)
      const active = yield* load(L.pcpu(k.cpu, 'cur_active_mm'));
      if (old !== NO_MM) yield* userRunning(old, false);
      yield* store(L.pcpu(k.cpu, 'cur_mm'), mm); // tsk->mm = mm
      yield* store(L.pcpu(k.cpu, 'cur_active_mm'), mm); // tsk->active_mm = mm
      yield* irqDisable('activate_mm');
      yield* k.r.switch_mm_irqs_off(k, active, mm);
      yield* irqEnable('activate_mm');
      yield* preemptCount(-1); // task_unlock(tsk)
      if (old !== NO_MM) yield* mmput(k, old, vmaOf(old));
      else yield* mmdrop(k, active);
      yield* userRunning(mm, true);
    })(),
  );
}

/**
 * The counts of the mms alive at boot: `mm_users` is the number of the scenario's tasks that
 * use the mm (World.mmUsers), or 1 when none does (a process the scenario does not run keeps
 * it); `mm_count` is 1 for the users plus one per CPU whose kernel thread starts borrowing it
 * (lazy). Their slab word is 1 (allocated).
 */
export function bootRefcounts(world: World, L: Layout, alive: readonly MmInfo[], poke: (loc: number, v: number) => void): void {
  for (const mm of alive) {
    if (mm.id === INIT_MM) continue;
    const users = world.mmUsers?.find(([id]) => id === mm.id)?.[1] ?? 0;
    const lazy = world.cpuStart.filter((s) => s.mode === 'lazy' && s.mm === mm.id).length;
    poke(L.mmField(mm.id, 'mm_users'), Math.max(users, 1));
    poke(L.mmField(mm.id, 'mm_count'), 1 + lazy);
    poke(L.mmField(mm.id, 'slab'), 1);
  }
}
