/**
 * Generation-neutral glue around the routines under test: the scheduler's `context_switch`
 * (kernel/sched/core.c), the return to user mode, and the PTE store a caller such as
 * `zap_pte_range` makes before it flushes. `free_pgtables` is C (src/kernel/c/common/mm.c).
 *
 * Simplifications:
 * - `__schedule` takes the runqueue lock with IRQs off and `finish_task_switch` turns them on
 *   again; the task switch itself (`switch_to`) touches no state the model has.
 * - `current->mm` and `current->active_mm` are per-CPU private variables `cur_mm` and
 *   `cur_active_mm`: only the CPU running the task reads them.
 * - A caller that changes a PTE already holds the pointer (`ptep`), so the software walk that
 *   found it is not modelled: it reads entries only this CPU changes under the page-table lock.
 */
import type { AccessResult } from '../../machine/effects.ts';
import type { Loc, MmId } from '../../machine/types.ts';
import type { Val } from '../../kc/ir.ts';
import { UserError } from '../../errors.ts';
import {
  type K,
  type Routine,
  access,
  call,
  irqDisable,
  irqEnable,
  load,
  preemptCount,
  store,
  userRunning,
} from '../fx.ts';
import { NO_MM } from '../layout.ts';
import type { CoreRoutines } from '../variant.ts';
import { lifetimes, mmdrop, mmgrab, mmput } from './mm-life.ts';

/** Routines every generation has, used by the glue. */
export interface MmRoutines extends CoreRoutines {
  switch_mm_irqs_off(k: K<MmRoutines>, prev: MmId, next: MmId): Routine;
  enter_lazy_tlb(k: K<MmRoutines>, mm: MmId): Routine;
}

/**
 * `context_switch(rq, prev, next)`: a kernel thread (`next === NO_MM`) borrows the previous
 * `active_mm` through `enter_lazy_tlb`; a user task switches with `switch_mm_irqs_off`.
 */
export function* context_switch(k: K<MmRoutines>, next: MmId): Routine {
  yield* call(
    'context_switch',
    (function* () {
      const L = k.L;
      const life = lifetimes(L);
      yield* irqDisable('rq_lock_irq');
      const prevMm = yield* load(L.pcpu(k.cpu, 'cur_mm'));
      const oldmm = yield* load(L.pcpu(k.cpu, 'cur_active_mm'));
      if (prevMm !== NO_MM) yield* userRunning(prevMm, false);
      if (next === NO_MM) {
        yield* store(L.pcpu(k.cpu, 'cur_mm'), NO_MM);
        yield* store(L.pcpu(k.cpu, 'cur_active_mm'), oldmm); // next->active_mm = oldmm
        if (life) yield* mmgrab(k, oldmm); // the kernel thread borrows it
        yield* k.r.enter_lazy_tlb(k, oldmm);
      } else {
        yield* k.r.switch_mm_irqs_off(k, oldmm, next);
        yield* store(L.pcpu(k.cpu, 'cur_mm'), next);
        yield* store(L.pcpu(k.cpu, 'cur_active_mm'), next);
      }
      yield* irqEnable('finish_task_switch');
      // A previous task without an mm (a kernel thread, an exited task) gives its borrowed
      // active_mm back: rq->prev_mm, dropped by finish_task_switch() with IRQs on.
      if (life && prevMm === NO_MM) yield* mmdrop(k, oldmm);
      if (next !== NO_MM) yield* userRunning(next, true);
    })(),
  );
}

/**
 * `exit_mm()` (kernel/exit.c, v4.12): the exiting task gives up its mm. Under task_lock (a
 * spinlock: preemption off) it sets `current->mm = NULL` and calls `enter_lazy_tlb(mm,
 * current)`; from then on it runs like a kernel thread on the mm it keeps as active_mm, and
 * `mmput()` -> `exit_mmap()` tears that mm down with it still loaded. mmap_sem,
 * mm_update_next_owner and the core-dump wait touch no state the model has.
 */
export function* exit_mm(k: K<MmRoutines>, mm: MmId, vma: { readonly start: number; readonly end: number } = { start: 0, end: 0 }): Routine {
  yield* call(
    'exit_mm',
    (function* () {
      // With mm lifetimes (mm-life.ts): the task keeps a reference as its active_mm, and
      // gives its use of the address space up with mmput() (the last one tears it down).
      const life = lifetimes(k.L);
      if (life) yield* mmgrab(k, mm);
      yield* preemptCount(1); // task_lock(current)
      yield* userRunning(mm, false);
      yield* store(k.L.pcpu(k.cpu, 'cur_mm'), NO_MM); // current->mm = NULL
      yield* k.r.enter_lazy_tlb(k, mm);
      yield* preemptCount(-1); // task_unlock(current)
      if (life) yield* mmput(k, mm, vma);
    })(),
  );
}

/** Return to user mode and touch `va`. Without PTI nothing changes CR3 on the way out. */
export function* user_access(_k: K<CoreRoutines>, va: number, write: boolean): Routine<AccessResult> {
  return yield* call('user access', access(va, write, 'return to user'));
}

/** `set_pte_at(mm, addr, ptep, pte)`: a plain store. */
export function* set_pte_at(_k: K<CoreRoutines>, ptep: Loc, pte: number): Routine {
  yield* call('set_pte_at', store(ptep, pte, 'set_pte'));
}

/**
 * The table-freeing part of `unmap_region`: the C `free_pgtables()` of the variant's program
 * (src/kernel/c/common/mm.c, linked into every base; a variant may replace it). Arguments by
 * parameter name: mm, pmd (the upper entry's location), table (the leaf table page), start,
 * end, reuse (what the reused page is filled with).
 */
export function* freePgtables(k: K<CoreRoutines>, args: Readonly<Record<string, Val>>): Routine {
  if (!k.r.call_c) throw new UserError('free_pgtables is C (src/kernel/c/common/mm.c): the variant must be a C program');
  yield* k.r.call_c(k, 'free_pgtables', args);
}
