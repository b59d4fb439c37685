/**
 * `preempt-cr3-up`: preemption as the only concurrency (valid with `--cpus 1`). cpu0's first
 * task is a user task of mmA in do_exit(): `exit_mm()` drops its mm (it now runs like a
 * kernel thread with mmA as active_mm), then `exit_mmap()` flushes mmA with
 * `flush_tlb_mm_range()` (the teardown's tlb_finish_mmu). Task B, a user task of mmB, waits on
 * cpu0's runqueue; when it runs it returns to user mode and touches 0x1000. The scheduler may
 * preempt the running task (up to two times) wherever its preempt_count is 0 and IRQs are on,
 * and switches to B when A exits; each switch runs the generation's context_switch.
 *
 * The case of 5cf0791da5c1: a preemption between the CR3 read and write of __flush_tlb() lets
 * A write mmA's pgd back while B's mm is active. With `--cpus 2`, cpu1 is an idle kernel
 * thread that only takes IPIs.
 */
import { type K, call } from '../kernel/fx.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { exit_mm, type MmRoutines } from '../kernel/common/sched.ts';
import { PAGE_SIZE } from '../machine/types.ts';
import { type Program, type Scenario, WorldBuilder, idleStart, userStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

/** Kernel preemptions one execution may take. */
export const PREEMPT_CR3_UP_PREEMPTIONS = 2;

export const preemptCr3Up: Scenario = {
  id: 'preempt-cr3-up',
  title: 'cpu0: task A (mmA) exits and flushes its mm while task B (mmB) waits; preemption is the only concurrency',
  description:
    'cpu0 task A (user of mmA): exit_mm, then flush_tlb_mm_range(A) as exit_mmap does; task B (user of mmB, on cpu0\'s runqueue): user access of 0x1000. ' +
    `Up to ${PREEMPT_CR3_UP_PREEMPTIONS} preemptions wherever preempt_count is 0 and IRQs are on; A's exit switches to B. cpu1..: idle.`,
  cpus: { min: 1, max: 3, default: 1 },
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const B = w.addMm('mmB');
    w.mapUser(A, VA, w.dataPage());
    w.mapUser(B, VA, w.dataPage());
    const exiting: Program = function* (k: K<CoreRoutines>) {
      yield* exit_mm(k as K<MmRoutines>, A.id);
      // mmput() -> exit_mmap() -> tlb_finish_mmu(): the teardown's flush of mmA.
      yield* call('exit_mmap', k.r.flush_tlb_mm_range(k, A.id, VA, VA + PAGE_SIZE, false));
    };
    const toUser: Program = function* (k: K<CoreRoutines>) {
      yield* k.r.user_access(k, VA, false);
    };
    const idle: Program = function* () {};
    const starts = [userStart(A.id, [VA])];
    const programs = [exiting];
    for (let c = 1; c < cpus; c++) {
      starts.push(idleStart());
      programs.push(idle);
    }
    return {
      ...w.build([VA], starts, programs),
      tasks: [{ cpu: 0, mm: B.id, name: 'task B (mmB)', program: toUser }],
      preemptions: PREEMPT_CR3_UP_PREEMPTIONS,
    };
  },
};
