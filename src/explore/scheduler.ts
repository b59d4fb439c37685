/**
 * Which frames a CPU runs, and the moves that change it: a program's parts, the scheduler's
 * switch between tasks (`__schedule()` -> the generation's context_switch), the switch's return,
 * the call-function IPI and the perf NMI. Each function does the bookkeeping and returns the frame it pushed; the
 * step (sim.ts) then runs that frame to its first step effect.
 */
import { type K, type Routine, call, irqDisable, irqEnable, irqsDisabled } from '../kernel/fx.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { type CpuId, hex } from '../machine/types.ts';
import type { SegmentedProgram } from '../scenario/world.ts';
import { type Frame, newFrame } from './frames.ts';
import { NMI_FRAME } from './moves.ts';
import type { Sim } from './sim.ts';
import { TaskState } from './tasks.ts';
import { type Move, moveCpu } from './strategy.ts';
import { describeMove } from './describe.ts';
import { ipiTakeBody } from './event-data.ts';

/**
 * The NMI handler: IRQs off on entry (the interrupted flag comes back with IRET), then the perf
 * sampler's read of the interrupted task's user stack (arch/x86/events/core.c
 * perf_callchain_user -> copy_from_user_nmi), in the generation's C.
 */
function* perfNmi(k: K<CoreRoutines>, r: CoreRoutines, va: number): Routine {
  const off = yield* irqsDisabled();
  if (!off) yield* irqDisable('NMI entry');
  yield* call('perf_callchain_user', r.copy_from_user_nmi!(k, va));
  if (!off) yield* irqEnable('IRET (NMI)');
}

/**
 * The frame that runs part `i` of the program of the task on cpu `c` (the whole program when it
 * is not segmented), or undefined past the last part.
 */
export function programFrame(s: Sim, c: CpuId, i: number): Frame | undefined {
  const { world } = s.model;
  const t = s.tasks.cur[c]!;
  const n = s.model.cfg.params.cpus;
  const program = t < n ? world.programs[c]! : world.tasks![t - n]!.program;
  const parts = (program as Partial<SegmentedProgram>).parts;
  const part = parts ? parts[i] : i === 0 ? program : undefined;
  if (!part) return undefined;
  const k = s.ks[c]!;
  const id = t < n ? (parts ? `prog${c}#${i}` : `prog${c}`) : `task${t}#${i}`;
  return newFrame(() => part(k), id, null, false, i, false);
}

function taskName(s: Sim, t: number): string {
  const n = s.model.cfg.params.cpus;
  return t < n ? `cpu${t}'s first task` : s.model.world.tasks![t - n]!.name;
}

/**
 * `__schedule()` on cpu `c` to task `t`: save the running task's `current->mm`, then push the
 * generation's context_switch to `t`'s mm on top of the running task's stack. When it returns
 * (`switchDone`), the CPU runs `t`'s stack.
 */
export function startSwitch(s: Sim, c: CpuId, t: number, branch: number | undefined): Frame {
  const tt = s.tasks;
  const fs = s.frames[c]!;
  const prev = tt.cur[c]!;
  if (fs.length > 0) {
    tt.left--;
    // The execution's preemption budget is shared by every CPU: the last preemption disables the others.
    s.m.events?.push({ k: 'budget', of: 'preemptions' });
    tt.mm[prev] = s.m.load(c, s.model.layout.pcpu(c, 'cur_mm'));
  }
  tt.switchTo[c] = t;
  const k = s.ks[c]!;
  const routines = s.routines;
  const next = tt.mm[t]!;
  const f = newFrame(() => routines.context_switch(k, next), `sched:${t}`, null, false, -1, false);
  fs.push(f);
  if (s.trace) {
    const exited = fs.length === 1;
    const body = { k: 'sched', prev, task: t, from: taskName(s, prev), to: taskName(s, t), exited } as const;
    s.record(c, 'sched', `${body.from} ${exited ? 'exited' : 'preempted'}: switch to ${body.to} (task${t})`, undefined, branch, body);
  }
  return f;
}

/**
 * The switch frame returned: the CPU now runs the next task's stack. Returns the program's
 * first frame when that task never ran (it has to be started), else undefined.
 */
export function switchDone(s: Sim, c: CpuId): Frame | undefined {
  const tt = s.tasks;
  const t = tt.switchTo[c]!;
  const prev = tt.cur[c]!;
  const rest = s.frames[c]!;
  tt.switchTo[c] = -1;
  if (rest.length === 0) tt.state[prev] = TaskState.Dead;
  else {
    tt.state[prev] = TaskState.Ready;
    tt.saved[prev] = rest;
  }
  tt.cur[c] = t;
  const fresh = tt.state[t] === TaskState.New;
  tt.state[t] = TaskState.Running;
  if (fresh) {
    const f = programFrame(s, c, 0);
    s.frames[c] = f ? [f] : [];
    return f;
  }
  s.frames[c] = tt.saved[t]!;
  tt.saved[t] = null;
  return undefined;
}

/**
 * The call-function IPI taken on cpu `mv`'s CPU: the machine delivers the queued cross-calls and
 * the generation's interrupt handler goes on top of whatever runs there.
 */
export function startIpi(s: Sim, mv: Move, branch: number | undefined): Frame {
  const c = moveCpu(mv);
  const calls = s.m.deliver(c);
  const fs = s.frames[c]!;
  const top = fs[fs.length - 1];
  const k = s.ks[c]!;
  const routines = s.routines;
  const id = `irq:${calls.map((x) => `${x.sender}:${x.key}`).join(';')}`;
  const f = newFrame(() => routines.call_function_interrupt(k, calls), id, top ? top.fns : null, true, -1, false);
  fs.push(f);
  if (s.trace) s.record(c, 'ipi', describeMove(mv, s.model, calls), undefined, branch, ipiTakeBody(s.model.layout, calls));
  return f;
}

/**
 * An NMI on cpu `c`: the perf handler goes on top of whatever runs there, with IRQs off, and
 * reads a user address of the interrupted task (perf_callchain_user -> copy_from_user_nmi).
 * Its IRET restores the interrupted IRQ flag.
 */
export function startNmi(s: Sim, c: CpuId, branch: number | undefined): Frame {
  const nmi = s.model.world.nmi!;
  s.tasks.nmiLeft--;
  // Shared by every CPU: the last NMI disables the others.
  s.m.events?.push({ k: 'budget', of: 'nmi' });
  const fs = s.frames[c]!;
  const top = fs[fs.length - 1];
  const k = s.ks[c]!;
  const routines = s.routines;
  const f = newFrame(() => perfNmi(k, routines, nmi.va), NMI_FRAME, top ? top.fns : null, true, -1, false);
  fs.push(f);
  if (s.trace) s.record(c, 'nmi', `NMI: perf reads user va ${hex(nmi.va)} of the interrupted task`, undefined, branch, { k: 'nmi', va: nmi.va });
  return f;
}
