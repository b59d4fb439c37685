/**
 * The enabled moves of a state, choice 0 first: the current CPU's program (keep going), the
 * other programs, early-walk accesses, the scheduler's switches, IPI and NMI deliveries,
 * drains, INVLPGB arrivals, then the optional hardware moves (walks, evictions), with an `end`
 * move first when only those remain.
 */
import type { Machine } from '../machine/machine.ts';
import type { CpuId } from '../machine/types.ts';
import type { Frame } from './frames.ts';
import type { Model } from './model.ts';
import { type Move, MoveKind, packMove } from './strategy.ts';
import type { TaskTable } from './tasks.ts';

/** The argument of an IPI-kind move that delivers an NMI instead of the call-function IPI. */
export const NMI = 1;
/** The id of the NMI handler's frame. */
export const NMI_FRAME = 'nmi';

/** What the move enumeration reads of a state (`Sim`). */
export interface MoveView {
  readonly m: Machine;
  readonly frames: readonly (readonly Frame[])[];
  readonly model: Model;
  readonly current: number;
  readonly hasTasks: boolean;
  readonly tasks: TaskTable<Frame>;
  readonly vas: readonly number[];
}

export function progEnabled(v: MoveView, c: CpuId): boolean {
  const fs = v.frames[c]!;
  const top = fs[fs.length - 1];
  if (!top || !top.pending) return false;
  const e = top.pending;
  switch (e.k) {
    case 'store':
      return v.m.canStore(c, e.loc);
    case 'vstore':
      return v.m.cpu(c).sb.length < v.model.cfg.bounds.sbDepth;
    case 'wait':
      return e.until(v.m.load(c, e.loc));
    case 'tlbsync':
      // Waits for this CPU's INVLPGBs (without the feature it runs, and faults), then, being
      // serializing (the effect-kind table), for the drain actor like every draining kind.
      if (v.m.features.invlpgb && !v.m.tlbsyncDone(c)) return false;
      break;
    case 'ipi':
      // An xAPIC ICR store needs room in the buffer; an x2APIC WRMSR does not wait for it.
      if (e.via === 'mmio') return v.m.cpu(c).sb.length < v.model.cfg.bounds.sbDepth;
      if (e.via === 'wrmsr') return true;
      return !v.model.atomicity.waitForDrain || v.m.cpu(c).sb.length === 0;
  }
  // Effects that drain first (the machine's table) wait for the drain actor instead.
  return !v.model.atomicity.waitForDrain || !v.m.drainsFirst(e.k) || v.m.cpu(c).sb.length === 0;
}

/** Whether cpu `c`'s next step is an access that may fault on an early walk (see `Machine.early`). */
function earlyEnabled(v: MoveView, c: CpuId): boolean {
  const top = v.frames[c]![v.frames[c]!.length - 1];
  const e = top?.pending;
  if (!e || (e.k !== 'access' && e.k !== 'vload' && e.k !== 'vstore')) return false;
  return v.m.earlyFault(c, e.va) && progEnabled(v, c);
}

/** The enabled moves, choice 0 first. The array is reused: valid until the next call. */
export function enabledMoves(v: MoveView, mv: Move[]): Move[] {
  mv.length = 0;
  const m = v.m;
  const n = m.cpus.length;
  if (progEnabled(v, v.current)) mv.push(packMove(MoveKind.Prog, v.current));
  for (let c = 0; c < n; c++) if (c !== v.current && progEnabled(v, c)) mv.push(packMove(MoveKind.Prog, c));
  // The same access, using an early not-present walk instead of walking now (arg 1).
  for (let c = 0; c < n; c++) if (m.cpus[c]!.early.length > 0 && earlyEnabled(v, c)) mv.push(packMove(MoveKind.Prog, c, 1));
  if (v.hasTasks) for (let c = 0; c < n; c++) schedMoves(v, c, mv);
  // Interrupt delivery drains the store buffer: like serializing effects, it waits for the
  // drain actor (or drains itself under FINE_STEPS).
  const wait = v.model.atomicity.waitForDrain;
  const deliveryWaits = wait && m.deliveryDrains();
  for (let c = 0; c < n; c++) if (m.canDeliver(c) && (!deliveryWaits || m.cpus[c]!.sb.length === 0)) mv.push(packMove(MoveKind.Ipi, c));
  if (v.tasks.nmiLeft > 0) for (let c = 0; c < n; c++) if (nmiEnabled(v, c)) mv.push(packMove(MoveKind.Ipi, c, NMI));
  for (let c = 0; c < n; c++) if (m.cpus[c]!.sb.length > 0) mv.push(packMove(MoveKind.Drain, c));
  // A queued INVLPGB invalidation must happen: like a drain, it is not optional hardware.
  for (let c = 0; c < n; c++) if (m.cpus[c]!.inbox.length > 0) for (const from of m.bcastIssuers(c)) mv.push(packMove(MoveKind.Bcast, c, from));
  const required = mv.length;
  for (let c = 0; c < n; c++) {
    if (m.cpus[c]!.walksLeft <= 0) continue;
    for (let i = 0; i < v.vas.length; i++) if (m.walkMatters(c, v.vas[i]!)) mv.push(packMove(MoveKind.Walk, c, i));
  }
  for (let c = 0; c < n; c++) {
    const e = m.evictables(c);
    for (let i = 0; i < e; i++) mv.push(packMove(MoveKind.Evict, c, i));
  }
  if (required === 0 && mv.length > 0) mv.unshift(packMove(MoveKind.End, 0));
  return mv;
}

/**
 * The scheduler's moves on cpu `c`: after the running task exited, a switch to each task
 * waiting there; while it runs, a preemption (a switch to each waiting task) where the
 * kernel allows one: not inside an interrupt handler or a switch, preempt_count 0, IRQs on,
 * and the execution's preemption budget not used up.
 */
function schedMoves(v: MoveView, c: CpuId, mv: Move[]): void {
  const tt = v.tasks;
  if (tt.switchTo[c] !== -1) return;
  const fs = v.frames[c]!;
  const top = fs[fs.length - 1];
  if (top) {
    if (tt.left <= 0 || top.handler || !top.pending || tt.preempt[c] !== 0) return;
    const cpu = v.m.cpu(c);
    if (!cpu.irqOn || cpu.inIrq > 0) return;
  }
  for (const t of tt.runnable(c)) mv.push(packMove(MoveKind.Sched, c, t));
}

/**
 * Whether an NMI may arrive at cpu `c`: it runs something (a program, a handler or a switch)
 * and is not in an NMI already. IRQs off do not hold an NMI back.
 */
function nmiEnabled(v: MoveView, c: CpuId): boolean {
  const fs = v.frames[c]!;
  if (fs.length === 0) return false;
  for (const f of fs) if (f.id === NMI_FRAME) return false;
  return true;
}
