/**
 * The simulation state of one execution and its step function: the machine, the ghost state,
 * each CPU's stack of routine frames, and the tasks. Strategies drive it through
 * `runExecution` (engine.ts); the stateful search clones and fingerprints it.
 *
 * The engine's other jobs live beside it: what a check is and what every execution shares
 * (model.ts), the atomicity rules (atomicity.ts), frames and their copies (frames.ts), the
 * enabled moves in their fixed order (moves.ts), what each effect does (dispatch.ts, with the
 * per-kind table machine/effect-kinds.ts), the invariants after each step
 * (invariants/monitor.ts), and the trace event's shape (trace-event.ts). What stays here is the
 * step itself: taking a move, running a routine to its next step effect (settle), the
 * scheduler and NMI moves, cloning and the fingerprint.
 *
 * A step with one enabled move is not a branch point and puts nothing on the tape.
 */
import type { Effect } from '../machine/effects.ts';
import type { Machine } from '../machine/machine.ts';
import { Hasher } from '../machine/hash.ts';
import { EFFECT_KINDS } from '../machine/effect-kinds.ts';
import { type CpuId, PAGE_SIZE, PageKind, hex, vpnOf } from '../machine/types.ts';
import { tlbLookup } from '../machine/tlb.ts';
import { bootRefcounts } from '../kernel/common/mm-life.ts';
import { type K, type Routine, call, irqDisable, irqEnable, irqsDisabled } from '../kernel/fx.ts';
import type { CoreRoutines, InvariantView, SetupCtx } from '../kernel/variant.ts';
import type { SegmentedProgram } from '../scenario/world.ts';
import { Ghost } from '../invariants/ghost.ts';
import type { Violation } from '../invariants/types.ts';
import { describeBcast, describeEffect, describeMove, describeWalk } from './describe.ts';
import { HEARTBEAT, beat } from './heartbeat.ts';
import { routineFailure } from './routine-error.ts';
import { effectProblem, type EffectLimits } from '../machine/validate.ts';
import { ModelError } from '../errors.ts';
import { DEFAULT_STEP_EFFECTS, type Model } from './model.ts';
import type { Actor, TraceEvent } from './trace-event.ts';
import { type Frame, cloneFrame, feed, isCRun, newFrame } from './frames.ts';
import { type EventBody, callBody, drainBody, effectBody, evictBody, ipiTakeBody, walkBody } from './event-data.ts';
import { callTextV4 } from '../kernel/call-text.ts';
import { type Move, MoveKind, moveArg, moveCpu, moveKind, packMove } from './strategy.ts';
import { NMI, NMI_FRAME, enabledMoves, progEnabled } from './moves.ts';
import { exec, execInstant, isInstant, routineInput } from './dispatch.ts';
import { TaskState, TaskTable } from './tasks.ts';
import { NO_MM } from '../kernel/layout.ts';
import { type Footprint, type Shape, footprintOf } from './footprint.ts';
import type { HwEvent } from '../machine/hw-events.ts';

export { type Atomicity, COARSE_STEPS, FINE_STEPS } from './atomicity.ts';
export { type CheckConfig, DEFAULT_STEP_EFFECTS, type Model, prepare } from './model.ts';
export type { Actor, TraceEvent } from './trace-event.ts';


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
  private readonly ks: K<CoreRoutines>[];
  private readonly routines: CoreRoutines;
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
   * Fingerprint of everything that decides the future: machine, ghost, frame positions. With
   * `out`, also its full 64-bit hash as two words there (Hasher.key64).
   */
  fingerprint(extra = 0, out?: Uint32Array): number {
    const h = new Hasher();
    this.m.hashInto(h);
    this.ghost.hashInto(h);
    for (const fs of this.frames) {
      h.add(fs.length);
      for (const f of fs) {
        h.add(f.idKey % 4294967296);
        h.add(Math.floor(f.idKey / 4294967296));
        if (isCRun(f.gen)) {
          // A C routine is identified by its live state, not by the values it was fed.
          f.gen.keyInto(h);
        } else {
          h.add(f.n);
          h.add(f.inputHash.key());
        }
        h.add(f.pending ? 1 : 0);
      }
    }
    if (this.hasTasks || this.hasNmi) {
      this.tasks.hashInto(h);
      for (const fs of this.tasks.saved) {
        h.add(fs ? fs.length : -1);
        for (const f of fs ?? []) {
          h.add(f.idKey % 4294967296);
          h.add(Math.floor(f.idKey / 4294967296));
          h.add(f.n);
          h.add(f.inputHash.key());
        }
      }
    }
    h.add(extra);
    if (out) h.key64(out);
    return h.key();
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
    const { cfg, world, layout } = this.model;
    const m = this.model.makeMachine({
      features: cfg.features,
      bounds: cfg.bounds,
      cpus: cfg.params.cpus,
      pages: world.pages.length,
      vars: layout.count,
      varOwner: layout.owners,
      varWriter: layout.writers,
      vas: world.vas,
    });
    this.m = m;
    world.pages.forEach((p, pfn) => m.setPage(pfn, p.kind, p.owner));
    for (const [loc, v] of world.memory) m.poke(loc, v);
    // init_new_context() of each boot mm (ctx_id; init_mm's is 1, INIT_MM_CONTEXT), and the
    // counter it took them from (4.13+ last_mm_ctx_id).
    // An mm slot whose pgd page is free at boot holds no mm yet (a fork allocates one there).
    const alive = layout.mms.filter((mm) => world.pages[mm.pgd]?.kind !== PageKind.Free);
    for (const mm of alive) m.poke(layout.mmField(mm.id, 'ctx_id'), mm.ctxId);
    const lastCtx = layout.findVar('last_mm_ctx_id');
    if (lastCtx !== undefined) m.poke(lastCtx, Math.max(...alive.map((x) => x.ctxId)));
    bootRefcounts(world, layout, alive, (loc, v) => m.poke(loc, v));
    // setup_pcid() cleared PCID: the kernel never sets CR4.PCIDE (common/setup-pcid.ts).
    const kf = cfg.variant.cpuCaps?.(cfg.features) ?? cfg.features;
    if (cfg.features.pcid && !kf.pcid) for (let c = 0; c < cfg.params.cpus; c++) m.bootPcide(c, false);
    const setup: SetupCtx = {
      L: layout,
      features: kf,
      poke: (loc, v) => m.poke(loc, v),
      peek: (loc) => m.mem[loc]!,
      setCr3: (c, root, pcid) => m.bootCr3(c, root, pcid),
      prefill: (c, root, pcid, va) => m.prefill(c, root, pcid, va),
      setIrq: (c, on) => m.setIrq(c, on),
    };
    this.ghost = new Ghost(cfg.params.cpus);
    const extra = world.tasks ?? [];
    for (const t of extra) if (t.cpu >= cfg.params.cpus) throw new ModelError(`task ${t.name} runs on cpu${t.cpu}, which this run does not have (--cpus ${cfg.params.cpus})`);
    this.tasks = new TaskTable<Frame>(
      cfg.params.cpus,
      [...world.cpuStart.map((_, c) => c), ...extra.map((t) => t.cpu)],
      [...world.cpuStart.map((st) => (st.mode === 'user' ? st.mm : NO_MM)), ...extra.map((t) => t.mm)],
      extra.length > 0 ? (world.preemptions ?? 0) : 0,
      world.nmi?.budget ?? 0,
    );
    if (world.nmi && typeof this.routines.copy_from_user_nmi !== 'function') {
      throw new ModelError(`scenario ${cfg.scenario.id} sends NMIs whose handler calls copy_from_user_nmi(), which ${cfg.variant.id} does not define`);
    }
    for (let c = 0; c < cfg.params.cpus; c++) {
      const start = world.cpuStart[c]!;
      this.routines.initCpu(setup, c, start);
      if (start.mode === 'user') this.ghost.userMm[c] = start.mm;
    }
    for (let c = 0; c < cfg.params.cpus; c++) {
      const f = this.programFrame(c, 0);
      this.frames.push(f ? [f] : []);
      if (!f) continue;
      this.effects = 0;
      this.settle(c, f, this.advance(c, f, undefined, true));
    }
  }

  /** The frame of a `sub` call made by `caller`; its identity is the caller's history plus its own. */
  private subFrame(caller: Frame, fn: string, make: () => Routine<unknown>): Frame {
    return newFrame(make, `sub:${fn}`, caller.fns, caller.handler, -1, true);
  }

  /**
   * The frame that runs part `i` of cpu `c`'s program (the whole program when it is not
   * segmented), or undefined past the last part.
   */
  private programFrame(c: CpuId, i: number): Frame | undefined {
    const { world } = this.model;
    const t = this.tasks.cur[c]!;
    const n = this.model.cfg.params.cpus;
    const program = t < n ? world.programs[c]! : world.tasks![t - n]!.program;
    const parts = (program as Partial<SegmentedProgram>).parts;
    const part = parts ? parts[i] : i === 0 ? program : undefined;
    if (!part) return undefined;
    const k = this.ks[c]!;
    const id = t < n ? (parts ? `prog${c}#${i}` : `prog${c}`) : `task${t}#${i}`;
    return newFrame(() => part(k), id, null, false, i, false);
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
    if (!this.violation && this.declared.length > 0) this.checkDeclared();
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

  /**
   * Take move `mv` on a copy of this state, for deferral (stateful.ts) to judge it: the copy, the
   * move's footprint, and whether it enables a move this state does not offer (`before`, this
   * state's enabled moves): a program that waited for a word or for its buffer to empty, an
   * interrupt delivery that waited for the drain, a program waiting on a page-table entry
   * whose accessed bit a walk sets.
   */
  probe(mv: Move, before: readonly Move[]): { readonly child: Sim; readonly fp: Footprint; readonly enables: boolean; readonly moves: readonly Move[] } {
    const child = this.clone();
    child.recordFootprints = true;
    child.apply(mv, undefined);
    let enables = false;
    // The child's enabled moves, kept for the search to enter it with (not enumerated twice).
    const moves = child.violation ? [] : child.enabledMoves().slice();
    for (const m of moves) if (!before.includes(m)) enables = true;
    return { child, fp: child.footprint!, enables, moves };
  }

  /**
   * The footprint of speculative walk `mv`, judged without taking it, when deferral may leave it
   * out on that footprint alone: the walk writes no memory (its leaf's accessed flag is set),
   * so it changes only its CPU's caches and walk budget, which no program, delivery or drain
   * waits for, and its CPU may not evict, so it enables nothing; it ends neither in a violation of an invariant that judges
   * its observations alone (`Invariant.observationOnly`) nor at the step limit. Undefined when
   * any of that is not known: the walk is then probed (`probe`). A test holds the footprint
   * equal to the one taking the walk gives (properties/deferral.test.ts).
   */
  dryWalkFootprint(mv: Move): Footprint | undefined {
    if (moveKind(mv) !== MoveKind.Walk || this.violation || this.declared.length > 0) return undefined;
    if (this.step + 1 >= this.model.cfg.bounds.maxSteps) return undefined;
    // A CPU that may still evict gets an eviction move for each entry a fill adds.
    if (this.m.cpu(moveCpu(mv)).evictionsLeft > 0) return undefined;
    const monitor = this.model.monitor;
    if (!monitor.observationOnly('walk-read')) return undefined;
    const dry = this.m.dryWalk(moveCpu(mv), this.vas[moveArg(mv)]!);
    if (!dry) return undefined;
    if (dry.obs.length > 0 && monitor.check(dry.obs, this.ghost, this.m, this.step + 1)) return undefined;
    return footprintOf(dry.events, this.shape());
  }

  /**
   * The program move that absorbs speculative walk `mv` (deferral, explore/stateful.ts), if
   * one is offered: its CPU's next step starts with a user access to the walked address, the
   * TLB misses there (so the access walks itself, from the same memory and caches), the walk
   * is judged without taking it (`dryWalkFootprint`: it writes no memory, its CPU may not
   * evict; `dry` is its footprint, when the caller has it), walks are unbounded (so taking it
   * spends no budget) and the step limit is two steps away or more (walk + access take two
   * steps). Then the walk followed by that access reaches the state the access alone reaches:
   * the same TLB and PSC entries, and the same result for the routine (`routineInput` leaves
   * out whether a TLB hit served it), after which the rest of the access's step runs from the
   * same state. A test takes both on every such pair it meets in the first 3,000 states of
   * each of nine models (properties/deferral.test.ts).
   */
  absorber(mv: Move, dry: Footprint | undefined = this.dryWalkFootprint(mv)): Move | undefined {
    if (moveKind(mv) !== MoveKind.Walk || dry === undefined) return undefined;
    // Walk + access take two steps where the access alone takes one: both must end below the step limit.
    if (this.step + 2 >= this.model.cfg.bounds.maxSteps) return undefined;
    const c = moveCpu(mv);
    const va = this.vas[moveArg(mv)]!;
    const fs = this.frames[c]!;
    const e = fs[fs.length - 1]?.pending;
    if (!e || e.k !== 'access' || e.va !== va) return undefined;
    const cpu = this.m.cpu(c);
    if (Number.isFinite(cpu.walksLeft) || tlbLookup(cpu.tlb, cpu.cr3Pcid, vpnOf(va), cpu.pge)) return undefined;
    return packMove(MoveKind.Prog, c);
  }

  /** The machine's sizes, for numbering footprint resources. */
  private shape(): Shape {
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
        if (moveArg(mv) === NMI) {
          this.nmi(c, branch);
          break;
        }
        const calls = m.deliver(c);
        const top = this.frames[c]![this.frames[c]!.length - 1];
        const k = this.ks[c]!;
        const routines = this.routines;
        const id = `irq:${calls.map((x) => `${x.sender}:${x.key}`).join(';')}`;
        const f = newFrame(() => routines.call_function_interrupt(k, calls), id, top ? top.fns : null, true, -1, false);
        this.frames[c]!.push(f);
        this.current = c;
        if (this.trace) this.record(c, 'ipi', describeMove(mv, this.model, calls), undefined, branch, ipiTakeBody(this.model.layout, calls));
        this.settle(c, f, this.advance(c, f, undefined, true));
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
        this.schedule(c, moveArg(mv), branch);
        break;
      case MoveKind.End:
        break;
    }
  }

  /**
   * `__schedule()` on cpu `c` to task `t`: save the running task's `current->mm`, then run the
   * generation's context_switch to `t`'s mm on top of the running task's stack. When it
   * returns (`switchDone`), the CPU runs `t`'s stack.
   */
  private schedule(c: CpuId, t: number, branch: number | undefined): void {
    const tt = this.tasks;
    const fs = this.frames[c]!;
    const prev = tt.cur[c]!;
    if (fs.length > 0) {
      tt.left--;
      // The execution's preemption budget is shared by every CPU: the last preemption disables the others.
      this.m.events?.push({ k: 'budget', of: 'preemptions' });
      tt.mm[prev] = this.m.load(c, this.model.layout.pcpu(c, 'cur_mm'));
    }
    tt.switchTo[c] = t;
    this.current = c;
    const k = this.ks[c]!;
    const routines = this.routines;
    const next = tt.mm[t]!;
    const f = newFrame(() => routines.context_switch(k, next), `sched:${t}`, null, false, -1, false);
    fs.push(f);
    if (this.trace) {
      const exited = fs.length === 1;
      const body = { k: 'sched', prev, task: t, from: this.taskName(prev), to: this.taskName(t), exited } as const;
      this.record(c, 'sched', `${body.from} ${exited ? 'exited' : 'preempted'}: switch to ${body.to} (task${t})`, undefined, branch, body);
    }
    this.settle(c, f, this.advance(c, f, undefined, true));
  }

  /**
   * An NMI on cpu `c`: the perf handler runs on top of whatever runs there, with IRQs off, and
   * reads a user address of the interrupted task (perf_callchain_user -> copy_from_user_nmi).
   * Its IRET restores the interrupted IRQ flag.
   */
  private nmi(c: CpuId, branch: number | undefined): void {
    const nmi = this.model.world.nmi!;
    this.tasks.nmiLeft--;
    // Shared by every CPU: the last NMI disables the others.
    this.m.events?.push({ k: 'budget', of: 'nmi' });
    const fs = this.frames[c]!;
    const top = fs[fs.length - 1];
    const k = this.ks[c]!;
    const routines = this.routines;
    const f = newFrame(() => perfNmi(k, routines, nmi.va), NMI_FRAME, top ? top.fns : null, true, -1, false);
    fs.push(f);
    this.current = c;
    if (this.trace) this.record(c, 'nmi', `NMI: perf reads user va ${hex(nmi.va)} of the interrupted task`, undefined, branch, { k: 'nmi', va: nmi.va });
    this.settle(c, f, this.advance(c, f, undefined, true));
  }

  private taskName(t: number): string {
    const n = this.model.cfg.params.cpus;
    return t < n ? `cpu${t}'s first task` : this.model.world.tasks![t - n]!.name;
  }

  /** The switch frame returned: the CPU now runs the next task's stack (its program's first frame if it never ran). */
  private switchDone(c: CpuId): Frame | undefined {
    const tt = this.tasks;
    const t = tt.switchTo[c]!;
    const prev = tt.cur[c]!;
    const rest = this.frames[c]!;
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
      const f = this.programFrame(c, 0);
      this.frames[c] = f ? [f] : [];
      return f;
    }
    this.frames[c] = tt.saved[t]!;
    tt.saved[t] = null;
    return undefined;
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
          const started = this.switchDone(c);
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
        const next = f.part < 0 ? undefined : this.programFrame(c, f.part + 1);
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

  /** Invariants the variant declares in C (`invariant=name:function`), each checked on every CPU. */
  private get declared(): readonly { readonly name: string; readonly fn: string }[] {
    return this.model.cfg.variant.invariants ?? [];
  }

  private checkDeclared(): void {
    const ev = this.routines.eval_c;
    if (!ev) return;
    const m = this.m;
    const L = this.model.layout;
    const cr3Mm = (c: number): number => {
      const root = m.cpu(c).cr3Root;
      const mm = L.mms.find((x) => x.pgd === root || x.userPgd === root);
      return mm ? mm.id : -1;
    };
    const view: InvariantView = {
      read: (loc) => m.mem[loc]!,
      cr3Mm,
      tlbHas: (c, mm, va) => {
        const cpu = m.cpu(c);
        if (mm >= 0 && cr3Mm(c) !== mm) return false;
        return cpu.tlb.some((e) => e.vpn === Math.floor(va / PAGE_SIZE) && (mm < 0 || e.global || e.pcid === cpu.cr3Pcid));
      },
      userMm: (c) => this.ghost.userMm[c] ?? -1,
      flushInFlight: (mm) => this.ghost.flushes.some((f) => f.mm === mm && !f.kernel && f.returnedAt < 0),
    };
    for (const inv of this.declared) {
      for (let c = 0; c < this.model.cfg.params.cpus; c++) {
        const r = ev(this.ks[c]!, inv.fn, view);
        if (r.value) continue;
        const read = r.reads.map((x) => x.what ?? `${L.nameOf(x.loc)} = ${x.val}`);
        this.violation = {
          invariant: inv.name,
          cpu: c,
          step: this.step,
          message: `${inv.fn}() is false on cpu${c} at step ${this.step} (it read ${read.join(', ') || 'nothing'})`,
          declared: { fn: inv.fn, reads: r.reads },
        };
        return;
      }
    }
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
