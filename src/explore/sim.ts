/**
 * The simulation state of one execution and its step function: the machine, the ghost state,
 * each CPU's stack of routine frames, and the tasks. Strategies drive it through
 * `runExecution` (engine.ts); the stateful search clones and fingerprints it.
 *
 * The engine's other jobs live beside it: what a check is and what every execution shares
 * (model.ts), the initial state (boot.ts), the atomicity rules (atomicity.ts), frames and their
 * copies (frames.ts), which frames a CPU runs and the scheduler and NMI moves that change it
 * (scheduler.ts), the enabled moves in their fixed order (moves.ts), what each effect does
 * (dispatch.ts, with the per-kind table machine/effect-kinds.ts), the invariants after each step
 * (invariants/monitor.ts, and invariants/declared.ts for those a variant declares in C), the
 * fingerprint (fingerprint.ts), deferral's judgement of a move (judge.ts), and the trace
 * event's shape (trace-event.ts). What stays here is the step itself: taking a move, running a
 * routine to its next step effect (settle), and copying the state.
 *
 * A step with one enabled move is not a branch point and puts nothing on the tape.
 */
import type { Effect } from '../machine/effects.ts';
import type { Machine } from '../machine/machine.ts';
import { EFFECT_KINDS } from '../machine/effect-kinds.ts';
import type { CpuId } from '../machine/types.ts';
import type { K, Routine } from '../kernel/fx.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import type { Ghost } from '../invariants/ghost.ts';
import type { Violation } from '../invariants/types.ts';
import { type Declared, declaredViolation } from '../invariants/declared.ts';
import { describeBcast, describeEffect, describeWalk } from './describe.ts';
import { HEARTBEAT, beat } from './heartbeat.ts';
import { routineFailure } from './routine-error.ts';
import { effectProblem, type EffectLimits } from '../machine/validate.ts';
import { ModelError } from '../errors.ts';
import { DEFAULT_STEP_EFFECTS, type Model } from './model.ts';
import type { Actor, TraceEvent } from './trace-event.ts';
import { type Frame, cloneFrame, feed, isCRun, newFrame } from './frames.ts';
import { type EventBody, callBody, drainBody, effectBody, evictBody, walkBody } from './event-data.ts';
import { callTextV4 } from '../kernel/call-text.ts';
import { type Move, MoveKind, moveArg, moveCpu, moveKind } from './strategy.ts';
import { NMI, NMI_FRAME, enabledMoves, progEnabled } from './moves.ts';
import { exec, execInstant, isInstant, routineInput } from './dispatch.ts';
import type { TaskTable } from './tasks.ts';
import { type Footprint, type Shape, footprintOf } from './footprint.ts';
import type { HwEvent } from '../machine/hw-events.ts';
import { boot } from './boot.ts';
import { fingerprintOf } from './fingerprint.ts';
import { programFrame, startIpi, startNmi, startSwitch, switchDone } from './scheduler.ts';

export { type Atomicity, COARSE_STEPS, FINE_STEPS } from './atomicity.ts';
export { type CheckConfig, DEFAULT_STEP_EFFECTS, type Model, prepare } from './model.ts';
export type { Actor, TraceEvent } from './trace-event.ts';


export class Sim {
  m: Machine;
  ghost: Ghost;
  frames: Frame[][] = [];
  /** Tasks, their saved stacks and each CPU's preempt_count (tasks.ts). */
  tasks: TaskTable<Frame> = undefined as unknown as TaskTable<Frame>;
  /** The scenario has tasks beyond the CPUs' own (World.tasks): the scheduler may switch. */
  readonly hasTasks: boolean;
  /** The scenario sends NMIs (World.nmi). */
  readonly hasNmi: boolean;
  /** An access-through-own-mm violation of the current step, reported after the other invariants. */
  /**
   * Set by a preempt_enable() that brought the count to 0, or a local_irq_enable() at count 0,
   * in a scenario with tasks: the next effect is a preemption point even if it is instant, so
   * it waits as the frame's pending effect (a step of its own) and the scheduler may come first.
   */
  private preemptPoint = false;
  /** Each CPU's kernel context (what its routines are called with). */
  readonly ks: K<CoreRoutines>[];
  readonly routines: CoreRoutines;
  readonly vas: readonly number[];
  /** Trace of this execution, when recording. */
  trace: TraceEvent[] | undefined;
  private readonly moves: Move[] = [];
  violation: Violation | undefined;
  /** Take each move's hardware events and derive its footprint from them (for partial-order reduction). */
  recordFootprints = false;
  /** Footprint of the last applied move, derived from its hardware events (footprint.ts), or null when not recording. */
  footprint: Footprint | null = null;
  /** The hardware events of the last applied move, or null when not recording. */
  events: readonly HwEvent[] | null = null;
  current = 0;
  /** Set when a left-only instant effect ran: the current step may not glue on further. */
  private stepMustEnd = false;
  step = 0;
  /** Effects run in the current step, against `CheckConfig.stepEffects`. */
  private effects = 0;
  private readonly limits: EffectLimits;
  private readonly maxEffects: number;

  private constructor(
    readonly model: Model,
    ks: K<CoreRoutines>[],
  ) {
    this.routines = model.cfg.variant.routines;
    this.vas = model.world.vas;
    this.ks = ks;
    this.m = undefined as unknown as Machine;
    this.ghost = undefined as unknown as Ghost;
    const L = model.layout;
    this.limits = { words: L.base + L.count, pages: model.world.pages.length, cpus: model.cfg.params.cpus, mms: L.mms.length };
    this.maxEffects = model.cfg.stepEffects ?? DEFAULT_STEP_EFFECTS;
    this.hasTasks = (model.world.tasks?.length ?? 0) > 0;
    this.hasNmi = model.world.nmi !== undefined;
  }

  /**
   * Advance frame `f` of cpu `c`: start it (`first`) or feed it `input`. A routine is user
   * code, so what it throws becomes a model error naming it; a routine that keeps running
   * effects without ending the step is stopped at the effect budget.
   */
  private advance(c: CpuId, f: Frame, input: unknown, first = false): IteratorResult<Effect, unknown> {
    if (++this.effects > this.maxEffects) {
      throw new ModelError(
        `routine ${f.fns?.name ?? f.id} on cpu${c} ran ${this.maxEffects} effects in step ${this.step} without ending it (probably a spin loop on data only this CPU writes; the budget is --max-step-effects)`,
      );
    }
    try {
      return first ? f.gen!.next(undefined) : feed(f, input);
    } catch (e) {
      throw routineFailure(e, f.fns?.name ?? f.id, c, this.step);
    }
  }

  /** The initial state of `model`. */
  static start(model: Model, traceOn: boolean): Sim {
    const { cfg, layout } = model;
    const ks: K<CoreRoutines>[] = [];
    // The kernel reads the features its boot left (setup_pcid() may clear PCID).
    const kf = cfg.variant.cpuCaps?.(cfg.features) ?? cfg.features;
    for (let c = 0; c < cfg.params.cpus; c++) ks.push({ cpu: c, r: cfg.variant.routines, L: layout, features: kf });
    const sim = new Sim(model, ks);
    sim.trace = traceOn ? [] : undefined;
    sim.init();
    return sim;
  }

  /**
   * A copy about to take move `mv`: the live generator of the frame that move advances is
   * handed to the copy (this state rebuilds it from its inputs if it ever needs it again), and
   * with `stillNeeds`, so is every generator this state will not advance itself. A frame
   * below the top, or a top frame that some other child also advances later, is still
   * rebuilt by replay when its turn comes.
   */
  cloneFor(mv: Move, steal = true, stillNeeds?: (c: CpuId) => boolean): Sim {
    const s = this.clone();
    if (!steal) return s;
    if (moveKind(mv) === MoveKind.Prog) {
      const c = moveCpu(mv);
      const mine = this.frames[c]![this.frames[c]!.length - 1];
      const theirs = s.frames[c]![s.frames[c]!.length - 1];
      if (mine && theirs && mine.gen && !isCRun(mine.gen)) {
        theirs.gen = mine.gen;
        mine.gen = null;
      }
    }
    if (stillNeeds) {
      // Hand over every generator this state will not advance itself: frames below the top
      // (they only run again after a handler returns, in some descendant) and top frames of
      // CPUs with no program move left to explore here.
      for (let c = 0; c < this.frames.length; c++) {
        const mine = this.frames[c]!;
        const theirs = s.frames[c]!;
        const keepTop = stillNeeds(c);
        for (let i = 0; i < mine.length; i++) {
          if (keepTop && i === mine.length - 1) continue;
          const f = mine[i]!;
          if (f.gen && !theirs[i]!.gen && !isCRun(f.gen)) {
            theirs[i]!.gen = f.gen;
            f.gen = null;
          }
        }
      }
    }
    return s;
  }

  /** An independent copy; generators are rebuilt lazily from their recorded inputs. */
  clone(): Sim {
    const s = new Sim(this.model, this.ks);
    s.m = this.m.clone();
    s.ghost = this.ghost.clone();
    s.frames = this.frames.map((fs) => fs.map(cloneFrame));
    s.tasks = this.tasks.clone((fs) => fs.map(cloneFrame));
    s.current = this.current;
    s.step = this.step;
    s.violation = this.violation;
    s.trace = this.trace?.slice();
    s.recordFootprints = this.recordFootprints;
    return s;
  }

  /**
   * Fingerprint of everything that decides the future (fingerprint.ts). With `out`, also its
   * full 64-bit hash as two words there (Hasher.key64).
   */
  fingerprint(extra = 0, out?: Uint32Array): number {
    return fingerprintOf(this, extra, out);
  }

  /** A word of memory as it is now (for outcomes of litmus tests, read at the end). */
  peek(loc: number): number {
    return this.m.mem[loc]!;
  }

  /** Whether any store buffer still holds a store. */
  buffered(): boolean {
    return this.m.cpus.some((c) => c.sb.length > 0);
  }

  private init(): void {
    const { m, ghost, tasks } = boot(this.model);
    this.m = m;
    this.ghost = ghost;
    this.tasks = tasks;
    for (let c = 0; c < this.model.cfg.params.cpus; c++) {
      const f = programFrame(this, c, 0);
      this.frames.push(f ? [f] : []);
      if (!f) continue;
      this.effects = 0;
      this.startFrame(c, f);
    }
  }

  /** Start frame `f`, just pushed on cpu `c`, and run it to its first step effect. */
  private startFrame(c: CpuId, f: Frame): void {
    this.settle(c, f, this.advance(c, f, undefined, true));
  }

  /** The frame of a `sub` call made by `caller`; its identity is the caller's history plus its own. */
  private subFrame(caller: Frame, fn: string, make: () => Routine<unknown>): Frame {
    return newFrame(make, `sub:${fn}`, caller.fns, caller.handler, -1, true);
  }

  /**
   * Take move `mv` (an element of `enabledMoves()`); `branch` is its tape position when the
   * step was a branch point. Returns false when the execution has ended (END move).
   */
  apply(mv: Move, branch: number | undefined): boolean {
    if (moveKind(mv) === MoveKind.End) {
      // Ending the execution disables every walk and eviction: it conflicts with them all.
      this.events = this.recordFootprints ? [{ k: 'end' }] : null;
      this.footprint = this.events ? footprintOf(this.events, this.shape()) : null;
      this.record(moveCpu(mv), 'end', 'no more hardware events', undefined, branch, { k: 'end' });
      this.checkDeadlock();
      return false;
    }
    this.step++;
    this.m.step = this.step;
    this.effects = 0;
    if (HEARTBEAT.on) {
      const fs = this.frames[moveCpu(mv)]!;
      const top = fs[fs.length - 1];
      beat(moveCpu(mv), top ? (top.fns?.name ?? top.id) : '', this.step);
    }
    let events: HwEvent[] | null = null;
    if (this.recordFootprints) {
      events = [];
      this.m.events = events;
      if (moveKind(mv) === MoveKind.Prog || moveKind(mv) === MoveKind.Sched || (moveKind(mv) === MoveKind.Ipi && moveArg(mv) === NMI)) events.push({ k: 'prog', cpu: moveCpu(mv) });
    }
    this.doMove(mv, branch);
    if (this.m.obs.length > 0) this.checkObservations();
    if (!this.violation && this.declared.length > 0) {
      this.violation = declaredViolation(this.declared, this.routines, this.ks, this.model.layout, this.m, this.ghost, this.step);
    }
    this.m.events = null;
    this.events = events;
    this.footprint = events ? footprintOf(events, this.shape()) : null;
    const bounds = this.model.cfg.bounds;
    if (!this.violation && this.step >= bounds.maxSteps && this.enabledMoves().length > 0) {
      this.violation = {
        invariant: 'step-limit',
        step: this.step,
        message: `execution did not end within ${bounds.maxSteps} steps (probably a spin loop)`,
      };
    }
    return true;
  }

  /** The machine's sizes, for numbering footprint resources. */
  shape(): Shape {
    return { words: this.m.mem.length, cpus: this.m.cpus.length, pages: this.m.pageKind.length };
  }

  /** Called when no move is enabled: unfinished CPUs are then deadlocked. */
  finish(): void {
    this.checkDeadlock();
  }

  // ---------------------------------------------------------------- moves

  /** The enabled moves, choice 0 first (moves.ts). The array is reused: valid until the next call. */
  enabledMoves(): Move[] {
    return enabledMoves(this, this.moves);
  }

  private doMove(mv: Move, branch: number | undefined): void {
    const c = moveCpu(mv);
    const m = this.m;
    switch (moveKind(mv)) {
      case MoveKind.Prog: {
        this.current = c;
        const fs = this.frames[c]!;
        let early = moveArg(mv) === 1;
        for (;;) {
          // The frame on top can change inside one step: a `sub` call starts or returns, or the
          // next part of a segmented program starts. Gluing goes on into it.
          const top = fs[fs.length - 1]!;
          const e = top.pending!;
          const glue = this.model.atomicity.glue(e);
          const out = exec(this, c, top, e, early);
          early = false;
          if (this.trace) this.record(c, top.handler ? 'irq' : 'cpu', describeEffect(e, out, this.model.layout), e, branch, effectBody(e, out, this.model.layout, m, c));
          branch = undefined;
          if (this.violation) return;
          this.stepMustEnd = false;
          this.settle(c, top, this.advance(c, top, routineInput(e, out)));
          if (!glue || this.stepMustEnd || this.violation || !progEnabled(this, c)) break;
        }
        break;
      }
      case MoveKind.Ipi: {
        this.current = c;
        this.startFrame(c, moveArg(mv) === NMI ? startNmi(this, c, branch) : startIpi(this, mv, branch));
        break;
      }
      case MoveKind.Drain: {
        const e = m.drainOne(c);
        if (this.trace) {
          const text = e.ipi ? `ICR store visible: IPI ${callTextV4(this.model.layout, e.ipi.call)} raised on cpu${e.ipi.target}` : `${this.model.layout.nameOf(e.loc)} = ${e.val} visible`;
          this.record(c, 'drain', text, undefined, branch, e.ipi ? { k: 'ipi-raise', target: e.ipi.target, ...callBody(this.model.layout, e.ipi.call) } : drainBody(this.model.layout, e.loc, e.val));
        }
        break;
      }
      case MoveKind.Bcast: {
        const r = m.applyBcast(c, moveArg(mv));
        if (this.trace) this.record(c, 'bcast', describeBcast(r.inv, r.tlb, r.psc), undefined, branch, { k: 'bcast', from: r.inv.from, inv: r.inv, tlb: r.tlb, psc: r.psc });
        break;
      }
      case MoveKind.Walk: {
        const va = this.vas[moveArg(mv)]!;
        const plan = m.walk(c, va, true);
        if (this.trace) this.record(c, 'walk', describeWalk(va, plan), undefined, branch, walkBody(va, plan));
        break;
      }
      case MoveKind.Evict: {
        const body = this.trace ? evictBody(m, c, moveArg(mv)) : undefined;
        const what = m.evict(c, moveArg(mv));
        if (body) this.record(c, 'evict', what, undefined, branch, body);
        break;
      }
      case MoveKind.Sched:
        this.current = c;
        this.startFrame(c, startSwitch(this, c, moveArg(mv), branch));
        break;
      case MoveKind.End:
        break;
    }
  }

  /** Run the routine until its next step effect, executing instant effects on the way. */
  private settle(c: CpuId, f0: Frame, first: IteratorResult<Effect, unknown>): void {
    let r = first;
    let f = f0;
    this.preemptPoint = false;
    for (;;) {
      if (r.done) {
        f.pending = null;
        const fs = this.frames[c]!;
        if (fs[fs.length - 1] === f) fs.pop();
        if (f.handler && !f.returns && f.id !== NMI_FRAME && this.m.cpu(c).inIrq > 0) {
          throw new ModelError(`interrupt handler ${f.id} on cpu${c} returned without IRET (step ${this.step})`);
        }
        if (f.id.startsWith('sched:') && f.part < 0 && !f.handler) {
          const started = switchDone(this, c);
          if (!started) return;
          f = started;
          r = this.advance(c, started, undefined, true);
          continue;
        }
        if (f.returns) {
          // A `sub` call returned: its caller goes on with the result, the callee's history is gone.
          const caller = fs[fs.length - 1]!;
          if (!this.model.atomicity.forgetReturnedCalls) {
            const key = f.inputHash.key();
            caller.inputHash.add(key % 4294967296);
            caller.inputHash.add(Math.floor(key / 4294967296));
          }
          f = caller;
          r = this.advance(c, caller, r.value);
          continue;
        }
        // The next part of a segmented program starts with a history of its own.
        const next = f.part < 0 ? undefined : programFrame(this, c, f.part + 1);
        if (!next) return;
        fs.push(next);
        f = next;
        r = this.advance(c, next, undefined, true);
        continue;
      }
      const e = r.value;
      const problem = effectProblem(e, this.limits);
      if (problem !== undefined) throw new ModelError(`routine ${f.fns?.name ?? f.id} on cpu${c} at step ${this.step}: ${problem}`);
      if (e.k === 'sub') {
        const callee = this.subFrame(f, e.fn, e.make);
        this.frames[c]!.push(callee);
        f.pending = null;
        f = callee;
        r = this.advance(c, callee, undefined, true);
        continue;
      }
      if (!isInstant(this, c, e) || (this.preemptPoint && !EFFECT_KINDS[e.k].ghostOnly)) {
        this.preemptPoint = false;
        f.pending = e;
        return;
      }
      const out = execInstant(this, c, f, e);
      if (this.hasTasks && !f.handler && this.tasks.preempt[c] === 0 && ((e.k === 'preempt' && e.delta < 0) || (e.k === 'irq' && e.on))) this.preemptPoint = true;
      if (this.model.atomicity.leftOnly(this.m, c, e)) this.stepMustEnd = true;
      if (this.trace && (e.k === 'load' || e.k === 'store' || e.k === 'irq')) {
        this.record(c, f.handler ? 'irq' : 'cpu', describeEffect(e, out, this.model.layout), e, undefined, effectBody(e, out, this.model.layout, this.m, c));
      }
      if (this.violation) {
        f.pending = null;
        return;
      }
      r = this.advance(c, f, out);
    }
  }

  /** Invariants the variant declares in C (`invariant=name:function`; invariants/declared.ts). */
  get declared(): readonly Declared[] {
    return this.model.cfg.variant.invariants ?? [];
  }

  private checkObservations(): void {
    if (!this.violation) this.violation = this.model.monitor.check(this.m.obs, this.ghost, this.m, this.step);
    this.m.obs.length = 0;
  }

  private checkDeadlock(): void {
    const stuck: string[] = [];
    this.frames.forEach((fs, c) => {
      const top = fs[fs.length - 1];
      if (top?.pending) {
        const e = top.pending;
        const why = e.k === 'wait' ? `waits for ${e.what}` : `blocked at ${e.k}`;
        stuck.push(`cpu${c} ${why} in ${top.fns?.name ?? '?'}${this.m.cpu(c).irqOn ? '' : ' with IRQs off'}`);
      }
    });
    if (stuck.length > 0) {
      this.violation = { invariant: 'no-deadlock', step: this.step, message: `deadlock: ${stuck.join('; ')}` };
    }
  }

  record(c: CpuId, actor: Actor, text: string, e: Effect | undefined, branch: number | undefined, body: EventBody): void {
    if (!this.trace) return;
    const fs = this.frames[c]!;
    const fn = fs[fs.length - 1]?.fns?.name ?? (actor === 'cpu' || actor === 'irq' ? 'user' : '');
    const tag = e && 'at' in e ? e.at?.tag : undefined;
    const ev: TraceEvent = { step: this.step, cpu: c, actor, fn, text };
    this.trace.push({
      ...ev,
      ...(tag === undefined ? {} : { tag }),
      ...(branch === undefined ? {} : { branch }),
      data: { ...body, sb: this.m.cpu(c).sb.length },
    });
  }
}
