/**
 * Tasks, as distinct from CPUs: which task runs on each CPU, the saved kernel stacks of the
 * tasks that wait on a runqueue, each task's `current->mm` while it is switched out, each
 * CPU's preempt_count, and the kernel preemptions left in this execution. Only the engine
 * changes it: boot.ts builds it, dispatch.ts runs `preempt` effects, scheduler.ts the `Sched`
 * and NMI moves.
 *
 * Task ids: task `c` < cpus is the program CPU c starts with; tasks `cpus + i` are the
 * scenario's `World.tasks[i]`. A task's frames are generic here (`F`): the engine's own.
 *
 * Simplifications: one runqueue per CPU and no migration (a task runs only on its CPU); the
 * preempt_count is per CPU, which is the x86 `__preempt_count` (a task is only switched out
 * where it is 0, so the count saved with a task is always 0).
 */
import type { CpuId } from '../machine/types.ts';

export const enum TaskState {
  /** Never ran: its program starts when the scheduler first switches to it. */
  New = 0,
  Running = 1,
  /** Switched out at a preemption: its stack is saved. */
  Ready = 2,
  /** Its program ended (do_task_dead). */
  Dead = 3,
}

export class TaskTable<F> {
  /** Task running on each CPU. */
  readonly cur: number[];
  /** Task each CPU's scheduler is switching to, or -1. */
  readonly switchTo: number[];
  readonly preempt: number[];
  readonly state: number[];
  /** `current->mm` of each task while it is not running (NO_MM: kernel thread or exited). */
  readonly mm: number[];
  readonly saved: (F[] | null)[];
  readonly cpuOf: readonly CpuId[];

  constructor(
    cpus: number,
    cpuOf: readonly CpuId[],
    mm: readonly number[],
    public left: number,
    /** NMIs left in this execution (World.nmi). */
    public nmiLeft = 0,
    /** Copy this table's arrays (clone), instead of starting every task afresh. */
    from?: { readonly table: TaskTable<F>; readonly copyStack: (fs: F[]) => F[] },
  ) {
    this.cpuOf = cpuOf;
    if (from) {
      const t = from.table;
      this.cur = t.cur.slice();
      this.switchTo = t.switchTo.slice();
      this.preempt = t.preempt.slice();
      this.state = t.state.slice();
      this.mm = t.mm.slice();
      this.saved = t.saved.map((fs) => (fs ? from.copyStack(fs) : null));
      return;
    }
    this.cur = Array.from({ length: cpus }, (_, c) => c);
    this.switchTo = new Array<number>(cpus).fill(-1);
    this.preempt = new Array<number>(cpus).fill(0);
    this.state = cpuOf.map((_, t) => (t < cpus ? TaskState.Running : TaskState.New));
    this.mm = [...mm];
    this.saved = cpuOf.map(() => null);
  }

  clone(copyStack: (fs: F[]) => F[]): TaskTable<F> {
    return new TaskTable<F>(this.cur.length, this.cpuOf, this.mm, this.left, this.nmiLeft, { table: this, copyStack });
  }

  /** Tasks of CPU `c` the scheduler may switch to: not running and not dead. */
  runnable(c: CpuId): number[] {
    const out: number[] = [];
    for (let t = 0; t < this.cpuOf.length; t++) {
      if (this.cpuOf[t] === c && (this.state[t] === TaskState.New || this.state[t] === TaskState.Ready)) out.push(t);
    }
    return out;
  }

  /** Everything but the saved stacks (the engine hashes those with its frames). */
  hashInto(h: { add(x: number): void }): void {
    h.add(this.left);
    h.add(this.nmiLeft);
    for (const x of this.cur) h.add(x);
    for (const x of this.switchTo) h.add(x);
    for (const x of this.preempt) h.add(x);
    for (let t = 0; t < this.state.length; t++) h.add(this.state[t]! * 65536 + (this.mm[t]! & 0xffff));
  }
}
