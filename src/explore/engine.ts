/**
 * The execution engine: runs one execution of a model (variant x scenario x machine) under a
 * strategy, and reports the first violation, the choice tape and, on request, a trace.
 *
 * Actors per CPU: its program (with interrupt handlers stacked on top of it), its store-buffer
 * drain, its speculative walker, and IPI delivery. At every step the engine lists the enabled
 * moves in a fixed order: the current CPU's program first (choice 0 = keep going), then the
 * other programs, IPI deliveries, drains, walks and evictions. When only optional hardware
 * moves (walks, evictions) remain, an `end` move comes first, so choice 0 still means "no
 * speculative walk". A step with one enabled move is not a branch point and puts nothing on
 * the tape.
 *
 * This file is the engine's hot path and its effect dispatch; it is long because the two
 * belong together (see the style note on per-step code).
 */
import type { AccessResult, Effect } from '../machine/effects.ts';
import { Machine } from '../machine/machine.ts';
import {
  type Bounds,
  type CpuId,
  type Features,
  entryLoc,
  entryPfn,
  entryPresent,
  leafIndex,
  upperIndex,
} from '../machine/types.ts';
import type { K, Routine } from '../kernel/fx.ts';
import { Layout } from '../kernel/layout.ts';
import type { CoreRoutines, SetupCtx, Variant } from '../kernel/variant.ts';
import type { Scenario, ScenarioParams, World } from '../scenario/world.ts';
import { Ghost, type Covered } from '../invariants/ghost.ts';
import { checkStaleUse } from '../invariants/no-stale-tlb-use.ts';
import { checkWalkRead } from '../invariants/no-walk-through-freed-table.ts';
import type { Violation } from '../invariants/types.ts';
import { describeEffect, describeMove } from './describe.ts';
import { type Move, MoveKind, type Strategy, moveArg, moveCpu, moveKind, packMove } from './strategy.ts';

export interface CheckConfig {
  readonly variant: Variant;
  readonly scenario: Scenario;
  readonly params: ScenarioParams;
  readonly features: Features;
  readonly bounds: Bounds;
}

/** Everything that is the same for every execution of a check. */
export interface Model {
  readonly cfg: CheckConfig;
  readonly world: World;
  readonly layout: Layout;
}

export function prepare(cfg: CheckConfig): Model {
  const world = cfg.scenario.build(cfg.params);
  const layout = new Layout(world.pages.length, world.mms, cfg.params.cpus, cfg.variant.sharedPcpu);
  return { cfg, world, layout };
}

export type Actor = 'cpu' | 'irq' | 'ipi' | 'drain' | 'walk' | 'evict' | 'end' | 'ghost';

export interface TraceEvent {
  readonly step: number;
  readonly cpu: CpuId;
  readonly actor: Actor;
  /** Innermost kernel function the CPU is in. */
  readonly fn: string;
  readonly text: string;
  /** Ordering tag of the effect, e.g. `(1)`. */
  readonly tag?: string;
  /** Position on the choice tape when this step was a branch point. */
  readonly branch?: number;
}

export interface ExecutionResult {
  readonly violation?: Violation;
  readonly steps: number;
  readonly tape: readonly number[];
  /** Number of enabled moves at each branch point. */
  readonly widths: readonly number[];
  readonly trace?: readonly TraceEvent[];
}

/** A strategy may throw this to stop an execution (replay that no longer fits). */
export class Divergence extends Error {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {
    super(`diverged at branch ${at}: ${reason}`);
  }
}

interface Frame {
  readonly gen: Routine<unknown>;
  pending: Effect | null;
  readonly fns: string[];
  readonly handler: boolean;
}

export function runExecution(model: Model, strategy: Strategy, opts: { trace: boolean }): ExecutionResult {
  return new Execution(model, strategy, opts.trace).run();
}

class Execution {
  private readonly m: Machine;
  private readonly ghost: Ghost;
  private readonly frames: Frame[][] = [];
  private readonly ks: K<CoreRoutines>[] = [];
  private readonly routines: CoreRoutines;
  private readonly vas: readonly number[];
  private readonly tape: number[] = [];
  private readonly widths: number[] = [];
  private readonly trace: TraceEvent[] | undefined;
  private readonly moves: Move[] = [];
  private violation: Violation | undefined;
  private current = 0;
  private step = 0;

  constructor(
    private readonly model: Model,
    private readonly strategy: Strategy,
    traceOn: boolean,
  ) {
    const { cfg, world, layout } = model;
    this.trace = traceOn ? [] : undefined;
    this.routines = cfg.variant.routines;
    this.vas = world.vas;
    const m = new Machine({
      features: cfg.features,
      bounds: cfg.bounds,
      cpus: cfg.params.cpus,
      pages: world.pages.length,
      vars: layout.count,
      varOwner: layout.owners,
    });
    this.m = m;
    world.pages.forEach((p, pfn) => m.setPage(pfn, p.kind, p.owner));
    for (const [loc, v] of world.memory) m.poke(loc, v);
    const setup: SetupCtx = {
      L: layout,
      features: cfg.features,
      poke: (loc, v) => m.poke(loc, v),
      peek: (loc) => m.mem[loc]!,
      setCr3: (c, root, pcid) => m.bootCr3(c, root, pcid),
      prefill: (c, root, pcid, va) => m.prefill(c, root, pcid, va),
      setIrq: (c, on) => m.setIrq(c, on),
    };
    this.ghost = new Ghost(cfg.params.cpus);
    for (let c = 0; c < cfg.params.cpus; c++) {
      const start = world.cpuStart[c]!;
      this.routines.initCpu(setup, c, start);
      if (start.mode === 'user') this.ghost.userMm[c] = start.mm;
      this.ks.push({ cpu: c, r: this.routines, L: layout, features: cfg.features });
    }
    for (let c = 0; c < cfg.params.cpus; c++) {
      const f: Frame = { gen: world.programs[c]!(this.ks[c]!), pending: null, fns: [], handler: false };
      this.frames.push([f]);
      this.advance(c, f, undefined);
    }
  }

  run(): ExecutionResult {
    const bounds = this.model.cfg.bounds;
    while (!this.violation) {
      const moves = this.enabledMoves();
      if (moves.length === 0) {
        this.checkDeadlock();
        break;
      }
      let choice = 0;
      let branch: number | undefined;
      if (moves.length > 1) {
        branch = this.tape.length;
        choice = this.strategy.choose({ index: branch, step: this.step, moves });
        if (!(choice >= 0 && choice < moves.length)) {
          throw new Divergence(branch, `choice ${choice} but only ${moves.length} moves are enabled`);
        }
        this.tape.push(choice);
        this.widths.push(moves.length);
      }
      const mv = moves[choice]!;
      if (moveKind(mv) === MoveKind.End) {
        this.record(moveCpu(mv), 'end', 'no more hardware events', undefined, branch);
        this.checkDeadlock();
        break;
      }
      this.step++;
      this.m.step = this.step;
      this.doMove(mv, branch);
      if (this.m.obs.length > 0) this.checkObservations();
      if (!this.violation && this.step >= bounds.maxSteps && this.enabledMoves().length > 0) {
        this.violation = {
          invariant: 'step-limit',
          step: this.step,
          message: `execution did not end within ${bounds.maxSteps} steps (probably a spin loop)`,
        };
      }
    }
    const base = { steps: this.step, tape: this.tape, widths: this.widths };
    const withTrace = this.trace ? { ...base, trace: this.trace } : base;
    return this.violation ? { ...withTrace, violation: this.violation } : withTrace;
  }

  // ---------------------------------------------------------------- moves

  private progEnabled(c: CpuId): boolean {
    const fs = this.frames[c]!;
    const top = fs[fs.length - 1];
    if (!top || !top.pending) return false;
    const e = top.pending;
    if (e.k === 'store') return this.m.canStore(c, e.loc);
    if (e.k === 'wait') return e.until(this.m.load(c, e.loc));
    return true;
  }

  private enabledMoves(): Move[] {
    const mv = this.moves;
    mv.length = 0;
    const m = this.m;
    const n = m.cpus.length;
    if (this.progEnabled(this.current)) mv.push(packMove(MoveKind.Prog, this.current));
    for (let c = 0; c < n; c++) if (c !== this.current && this.progEnabled(c)) mv.push(packMove(MoveKind.Prog, c));
    for (let c = 0; c < n; c++) if (m.canDeliver(c)) mv.push(packMove(MoveKind.Ipi, c));
    for (let c = 0; c < n; c++) if (m.cpus[c]!.sb.length > 0) mv.push(packMove(MoveKind.Drain, c));
    const required = mv.length;
    for (let c = 0; c < n; c++) {
      if (m.cpus[c]!.walksLeft <= 0) continue;
      for (let i = 0; i < this.vas.length; i++) if (m.walkMatters(c, this.vas[i]!)) mv.push(packMove(MoveKind.Walk, c, i));
    }
    for (let c = 0; c < n; c++) {
      const e = m.evictables(c);
      for (let i = 0; i < e; i++) mv.push(packMove(MoveKind.Evict, c, i));
    }
    if (required === 0 && mv.length > 0) mv.unshift(packMove(MoveKind.End, 0));
    return mv;
  }

  private doMove(mv: Move, branch: number | undefined): void {
    const c = moveCpu(mv);
    const m = this.m;
    switch (moveKind(mv)) {
      case MoveKind.Prog: {
        this.current = c;
        const fs = this.frames[c]!;
        const top = fs[fs.length - 1]!;
        const e = top.pending!;
        const out = this.exec(c, top, e);
        if (this.trace) this.record(c, top.handler ? 'irq' : 'cpu', describeEffect(e, out, this.model.layout), e, branch);
        if (this.violation) return;
        this.advance(c, top, out);
        break;
      }
      case MoveKind.Ipi: {
        const calls = m.deliver(c);
        const top = this.frames[c]![this.frames[c]!.length - 1];
        const f: Frame = {
          gen: this.routines.call_function_interrupt(this.ks[c]!, calls),
          pending: null,
          fns: top ? [...top.fns] : [],
          handler: true,
        };
        this.frames[c]!.push(f);
        this.current = c;
        if (this.trace) this.record(c, 'ipi', describeMove(mv, this.model, calls), undefined, branch);
        this.advance(c, f, undefined);
        break;
      }
      case MoveKind.Drain: {
        const e = m.drainOne(c);
        if (this.trace) this.record(c, 'drain', `${this.model.layout.nameOf(e.loc)} = ${e.val} visible`, undefined, branch);
        break;
      }
      case MoveKind.Walk: {
        const va = this.vas[moveArg(mv)]!;
        m.walk(c, va, true);
        if (this.trace) this.record(c, 'walk', describeMove(mv, this.model, va), undefined, branch);
        break;
      }
      case MoveKind.Evict: {
        const what = m.evict(c, moveArg(mv));
        if (this.trace) this.record(c, 'evict', what, undefined, branch);
        break;
      }
      case MoveKind.End:
        break;
    }
  }

  /** Run the routine until its next step effect, executing instant effects on the way. */
  private advance(c: CpuId, f: Frame, input: unknown): void {
    let r = f.gen.next(input);
    for (;;) {
      if (r.done) {
        f.pending = null;
        const fs = this.frames[c]!;
        if (fs[fs.length - 1] === f) fs.pop();
        if (f.handler && this.m.cpu(c).inIrq > 0) {
          throw new Error('[tlbcheck bug] interrupt handler finished without IRET');
        }
        return;
      }
      const e = r.value;
      if (!this.isInstant(c, e)) {
        f.pending = e;
        return;
      }
      const out = this.execInstant(c, f, e);
      if (this.violation) {
        f.pending = null;
        return;
      }
      r = f.gen.next(out);
    }
  }

  private isInstant(c: CpuId, e: Effect): boolean {
    switch (e.k) {
      case 'enter':
      case 'leave':
      case 'assert':
      case 'read-cr3':
      case 'irqs-disabled':
      case 'read-pasid-msr':
      case 'flush-begin':
      case 'flush-end':
      case 'pasid-update-begin':
      case 'pasid-update-end':
      case 'user-running':
        return true;
      case 'load':
      case 'store':
        // Private per-CPU data with IRQs off: no other actor can observe it in between.
        return this.m.isPrivate(e.loc) && !this.m.cpu(c).irqOn;
      default:
        return false;
    }
  }

  private execInstant(c: CpuId, f: Frame, e: Effect): unknown {
    const m = this.m;
    switch (e.k) {
      case 'enter':
        f.fns.push(e.fn);
        return undefined;
      case 'leave':
        f.fns.pop();
        return undefined;
      case 'assert':
        if (!e.ok) {
          this.violation = {
            invariant: 'kernel-assertion',
            cpu: c,
            step: this.step,
            message: `${e.kind} in ${f.fns[f.fns.length - 1] ?? '?'} on cpu${c}: ${e.what}`,
          };
          if (this.trace) this.record(c, f.handler ? 'irq' : 'cpu', `${e.kind}: ${e.what}`, undefined, undefined);
        }
        return undefined;
      case 'read-cr3':
        return { root: m.cpu(c).cr3Root, pcid: m.cpu(c).cr3Pcid };
      case 'irqs-disabled':
        return !m.cpu(c).irqOn;
      case 'read-pasid-msr':
        return m.cpu(c).pasidMsr;
      case 'flush-begin':
        return this.flushBegin(c, e.mm, e.start, e.end, e.kernel);
      case 'flush-end': {
        const rec = this.ghost.flushes[e.token];
        if (!rec) throw new Error('[tlbcheck bug] flush-end without flush-begin');
        rec.returnedAt = this.step;
        if (this.trace) this.record(c, 'ghost', `flush of ${this.model.layout.mmName(rec.mm)} returns to its caller`, undefined, undefined);
        return undefined;
      }
      case 'pasid-update-begin':
        this.ghost.pasid.push({ cpu: c, mm: e.mm, val: e.val, returnedAt: -1 });
        return this.ghost.pasid.length - 1;
      case 'pasid-update-end': {
        const rec = this.ghost.pasid[e.token];
        if (rec) rec.returnedAt = this.step;
        return undefined;
      }
      case 'user-running':
        this.ghost.userMm[c] = e.on ? e.mm : -1;
        return undefined;
      case 'load':
        return m.load(c, e.loc);
      case 'store':
        m.store(c, e.loc, e.val);
        return undefined;
      default:
        throw new Error(`[tlbcheck bug] ${e.k} is not instant`);
    }
  }

  /** What the flusher's writes to the covered addresses are, as it sees them now. */
  private flushBegin(c: CpuId, mm: number, start: number, end: number, kernel: boolean): number {
    const m = this.m;
    const pgd = this.model.layout.mm(mm).pgd;
    const covered: Covered[] = [];
    for (const va of this.vas) {
      if (va < start || va >= end) continue;
      const upperLoc = entryLoc(pgd, upperIndex(va));
      const upperWid = m.visibleWid(c, upperLoc);
      const ue = m.load(c, upperLoc);
      if (entryPresent(ue)) {
        const leafLoc = entryLoc(entryPfn(ue), leafIndex(va));
        covered.push({ va, upperLoc, upperWid, leafLoc, leafWid: m.visibleWid(c, leafLoc) });
      } else {
        covered.push({ va, upperLoc, upperWid });
      }
    }
    this.ghost.flushes.push({ cpu: c, mm, start, end, kernel, covered, beganAt: this.step, returnedAt: -1 });
    return this.ghost.flushes.length - 1;
  }

  /** Execute one step effect. */
  private exec(c: CpuId, f: Frame, e: Effect): unknown {
    const m = this.m;
    switch (e.k) {
      case 'load':
        return m.load(c, e.loc);
      case 'store':
        m.store(c, e.loc, e.val);
        return undefined;
      case 'rmw':
        return m.rmw(c, e.loc, e.op, e.a, e.b);
      case 'mfence':
        m.drainAll(c);
        return undefined;
      case 'wait':
        return m.load(c, e.loc);
      case 'cr3':
        this.fault(c, m.writeCr3(c, e.root, e.pcid, e.noflush));
        return undefined;
      case 'invlpg':
        m.invlpg(c, e.va);
        return undefined;
      case 'invpcid':
        this.fault(c, m.invpcid(c, e.type, e.pcid, e.va));
        return undefined;
      case 'pge':
        m.writePge(c, e.on);
        return undefined;
      case 'wrmsr-pasid':
        m.wrmsrPasid(c, e.val);
        return undefined;
      case 'irq':
        m.setIrq(c, e.on);
        return undefined;
      case 'ipi':
        m.queueCall(c, e.target, e.call);
        return undefined;
      case 'iret':
        if (!f.handler) throw new Error('[tlbcheck bug] IRET outside an interrupt handler');
        m.iret(c);
        return undefined;
      case 'access': {
        const r: AccessResult = m.access(c, e.va);
        return r;
      }
      case 'free-page':
        m.freePage(e.pfn);
        return undefined;
      case 'reuse-page':
        m.reusePage(e.pfn, e.fill);
        return undefined;
      default:
        return this.execInstant(c, f, e);
    }
  }

  private fault(c: CpuId, what: string | undefined): void {
    if (what === undefined) return;
    const fs = this.frames[c]!;
    const fn = fs[fs.length - 1]?.fns.at(-1) ?? '?';
    this.violation = { invariant: 'no-cpu-fault', cpu: c, step: this.step, message: `cpu${c} in ${fn}: ${what}` };
  }

  private checkObservations(): void {
    const L = this.model.layout;
    const mmName = (id: number): string => L.mmName(id);
    for (const o of this.m.obs) {
      if (this.violation) break;
      switch (o.o) {
        case 'walk-read':
          this.violation = checkWalkRead(o, this.step, mmName);
          break;
        case 'use':
          this.violation = checkStaleUse(o, this.ghost, this.step, mmName);
          break;
        case 'fault':
          this.violation = { invariant: 'no-cpu-fault', cpu: o.cpu, step: this.step, message: o.what };
          break;
      }
    }
    this.m.obs.length = 0;
  }

  private checkDeadlock(): void {
    const stuck: string[] = [];
    this.frames.forEach((fs, c) => {
      const top = fs[fs.length - 1];
      if (top?.pending) {
        const e = top.pending;
        const why = e.k === 'wait' ? `waits for ${e.what}` : `blocked at ${e.k}`;
        stuck.push(`cpu${c} ${why} in ${top.fns.at(-1) ?? '?'}${this.m.cpu(c).irqOn ? '' : ' with IRQs off'}`);
      }
    });
    if (stuck.length > 0) {
      this.violation = { invariant: 'no-deadlock', step: this.step, message: `deadlock: ${stuck.join('; ')}` };
    }
  }

  private record(c: CpuId, actor: Actor, text: string, e: Effect | undefined, branch: number | undefined): void {
    if (!this.trace) return;
    const fs = this.frames[c]!;
    const fn = fs[fs.length - 1]?.fns.at(-1) ?? (actor === 'cpu' || actor === 'irq' ? 'user' : '');
    const tag = e && 'at' in e ? e.at?.tag : undefined;
    const ev: TraceEvent = { step: this.step, cpu: c, actor, fn, text };
    this.trace.push({
      ...ev,
      ...(tag === undefined ? {} : { tag }),
      ...(branch === undefined ? {} : { branch }),
    });
  }
}
