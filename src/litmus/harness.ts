/**
 * Litmus tests on the same machine and engine that check the kernel: named shared locations,
 * per-CPU registers (private memory words), raw instruction programs, and exhaustive
 * enumeration of the final states. Registers are private to their CPU and IRQs are off, so
 * register traffic is instant and only the instructions under test are steps (a test whose
 * `boot` turns IRQs on, to take an IPI, pays a step per register access). Cross-calls run
 * their payload (`LitmusCall`) in the handler, then IRET.
 */
import { iret, type Routine } from '../kernel/fx.ts';
import type { AccessResult } from '../machine/effects.ts';
import type { CoreRoutines, Variant } from '../kernel/variant.ts';
import { type Model, prepare, type Sim } from '../explore/engine.ts';
import { sourceDpor } from '../explore/dpor.ts';
import { statefulDfs } from '../explore/stateful.ts';
import type { Machine, MachineInit } from '../machine/machine.ts';
import { DEFAULT_BOUNDS, type Bounds, type Features, type Loc, NO_FEATURES, entryPresent } from '../machine/types.ts';
import type { CpuStart, SetupCtx } from '../kernel/variant.ts';
import { type World, WorldBuilder } from '../scenario/world.ts';
import type { Violation } from '../invariants/types.ts';

/** What a litmus program can name. */
export interface LitmusEnv {
  readonly cpu: number;
  /** A shared location. */
  loc(name: string): Loc;
  /** One of this CPU's registers. */
  reg(name: string): Loc;
}

export type LitmusProgram = (env: LitmusEnv) => Routine;

export interface LitmusSpec {
  readonly name: string;
  readonly cpus: number;
  readonly locations: readonly string[];
  readonly registers: readonly string[];
  readonly init?: Readonly<Record<string, number>>;
  readonly programs: readonly LitmusProgram[];
  readonly features?: Features;
  readonly bounds?: Partial<Bounds>;
  /** Page tables for translation tests; the returned starts give each CPU's CR3. */
  readonly pages?: (w: WorldBuilder) => readonly CpuStart[];
  /** Values of page-table words to poke after `pages` (e.g. PTEs of specific pages). */
  readonly vas?: readonly number[];
  /**
   * Boot state of one CPU in place of the default (CR3 of `start.mm` with PCID 0, its cached
   * vas, IRQs off): translation tests set a PCID, cache only upper entries, or turn IRQs on
   * so that an IPI can arrive.
   */
  readonly boot?: (s: SetupCtx, cpu: number, start: CpuStart) => void;
  /**
   * Observed names that are not locations: a page's data word (`{ loc }`), or a flag of a
   * leaf entry (`{ loc, bit }`: 1 when the entry is present and the inverted `bit` is clear).
   */
  readonly observe?: (name: string) => { readonly loc: Loc; readonly bit?: number } | undefined;
}

/** The payload of a litmus cross-call: the handler body to run on the target before IRET. */
export type LitmusCall = () => Routine;

export interface LitmusOutcomes {
  /** Final states, each `0:EAX=1; x=2;`-style, sorted. */
  readonly states: readonly string[];
  /** Violations reached (e.g. a walk through a freed table), by invariant. */
  readonly violations: readonly string[];
  readonly executions: number;
}

const stub = <T>(name: string) =>
  function* (): Routine<T> {
    throw new Error(`[tlbcheck bug] litmus test called kernel routine ${name}`);
  };

/** A variant with no kernel: boots each CPU with IRQs off on the CR3 the test gives (or as `boot` says). */
function litmusVariant(features: Features, boot: LitmusSpec['boot']): Variant {
  const routines: CoreRoutines = {
    initCpu: (s, cpu, start) => {
      s.setIrq(cpu, false);
      if (boot) return boot(s, cpu, start);
      if (start.mode !== 'idle' || start.mm !== 0) s.setCr3(cpu, s.L.mm(start.mm).pgd, 0);
      for (const va of start.cached) s.prefill(cpu, s.L.mm(start.mm).pgd, 0, va);
    },
    context_switch: stub<void>('context_switch'),
    user_access: stub<AccessResult>('user_access'),
    flush_tlb_mm_range: stub<void>('flush_tlb_mm_range'),
    switch_mm_irqs_off: stub<void>('switch_mm_irqs_off'),
    enter_lazy_tlb: stub<void>('enter_lazy_tlb'),
    call_function_interrupt: function* (_k, calls) {
      for (const c of calls) yield* (c.payload as LitmusCall)();
      yield* iret();
    },
  };
  return {
    id: 'litmus',
    title: 'no kernel: raw instruction programs',
    generation: 'litmus',
    kind: 'base',
    source: 'litmus test',
    features,
    sharedPcpu: new Set(),
    routines,
    expect: [],
  };
}

/** Spontaneous TLB/PSC evictions per CPU in a litmus run. */
export const LITMUS_EVICTIONS = 2;

export function litmusModel(spec: LitmusSpec, makeMachine?: (init: MachineInit) => Machine): Model {
  const features = spec.features ?? NO_FEATURES;
  const regName = (cpu: number, r: string): string => `${cpu}:${r}`;
  const extraVars = [
    ...spec.locations.map((name) => ({ name, owner: -1 })),
    ...Array.from({ length: spec.cpus }, (_, c) => spec.registers.map((r) => ({ name: regName(c, r), owner: c }))).flat(),
  ];
  const build = (): World => {
    const w = new WorldBuilder();
    const starts = spec.pages ? spec.pages(w) : Array.from({ length: spec.cpus }, (): CpuStart => ({ mode: 'idle', mm: 0, cached: [] }));
    if (starts.length !== spec.cpus) throw new Error(`[tlbcheck bug] litmus ${spec.name}: ${starts.length} starts for ${spec.cpus} cpus`);
    const programs = spec.programs.map((p, cpu) => (k: { L: { varLoc(n: string): Loc } }) =>
      p({ cpu, loc: (n) => k.L.varLoc(n), reg: (r) => k.L.varLoc(regName(cpu, r)) }),
    );
    return { ...w.build(spec.vas ?? [], starts, programs), extraVars };
  };
  const scenario = {
    id: `litmus-${spec.name}`,
    title: spec.name,
    description: 'litmus test',
    cpus: { min: spec.cpus, max: spec.cpus, default: spec.cpus },
    build,
  };
  // The hardware may drop any TLB or PSC entry at any time (SDM 4.10.2.2), and the walker
  // fills only on a miss: a budget of spontaneous evictions lets a cached entry be replaced.
  const bounds: Bounds = { ...DEFAULT_BOUNDS, evictions: LITMUS_EVICTIONS, ...spec.bounds };
  const model = prepare({ variant: litmusVariant(features, spec.boot), scenario, params: { cpus: spec.cpus }, features, bounds }, makeMachine);
  return withInit(model, spec);
}

/** Apply `spec.init` to the model's initial memory. */
function withInit(model: Model, spec: LitmusSpec): Model {
  const init = spec.init ?? {};
  const L = model.layout;
  const memory = new Map(model.world.memory);
  for (const [name, v] of Object.entries(init)) memory.set(L.varLoc(name), v);
  return { ...model, world: { ...model.world, memory } };
}

/** Every final state of the test, with the machine semantics of `makeMachine`. */
export function litmusOutcomes(spec: LitmusSpec, makeMachine?: (init: MachineInit) => Machine): LitmusOutcomes {
  const model = litmusModel(spec, makeMachine);
  const L = model.layout;
  const states = new Set<string>();
  const violations = new Set<string>();
  const fmt = (sim: Sim): string => {
    const regs = Array.from({ length: spec.cpus }, (_, c) => spec.registers.map((r) => `${c}:${r}=${sim.peek(L.varLoc(`${c}:${r}`))};`)).flat();
    const locs = spec.locations.map((n) => `${n}=${sim.peek(L.varLoc(n))};`);
    return [...regs, ...locs].join(' ');
  };
  const onViolation = (v: Violation): void => {
    violations.add(v.invariant);
  };
  // A substituted machine may not report footprints: partial-order reduction needs them.
  const r = statefulDfs(model, { all: true, por: makeMachine === undefined, final: (sim) => states.add(fmt(sim)), violation: onViolation });
  return { states: [...states].sort(), violations: [...violations].sort(), executions: r.executions };
}

/** What `exploreLitmus` reports: each final state, and each execution a violation ended. */
export interface LitmusVisitor {
  /** `peek(name)` reads a location (`x`) or register (`0:EAX`) in the end state. */
  final(peek: (name: string) => number): void;
  violation(v: Violation, peek: (name: string) => number): void;
}

/**
 * Explore every execution of `spec` exhaustively (stateful DFS, or source-DPOR, past
 * violations), handing each end state to `visit`. Returns the search's counts: `searched` is
 * distinct states for the stateful search, executions for DPOR.
 */
export function exploreLitmus(
  spec: LitmusSpec,
  visit: LitmusVisitor,
  makeMachine?: (init: MachineInit) => Machine,
  engine: 'stateful' | 'dpor' = 'stateful',
): { readonly model: Model; readonly searched: number; readonly executions: number; readonly complete: boolean } {
  const model = litmusModel(spec, makeMachine);
  const L = model.layout;
  const peek = (sim: Sim, n: string): number => {
    const o = spec.observe?.(n);
    if (!o) return sim.peek(L.varLoc(n));
    const v = sim.peek(o.loc);
    return o.bit === undefined ? v : entryPresent(v) && (v & o.bit) === 0 ? 1 : 0;
  };
  const cb = {
    all: true,
    final: (sim: Sim) => visit.final((n) => peek(sim, n)),
    violation: (v: Violation, sim: Sim) => visit.violation(v, (n) => peek(sim, n)),
  };
  if (engine === 'dpor') {
    const r = sourceDpor(model, cb);
    return { model, searched: r.executions, executions: r.executions, complete: r.complete };
  }
  // A substituted machine may not report footprints: partial-order reduction needs them.
  const r = statefulDfs(model, { ...cb, por: makeMachine === undefined });
  return { model, searched: r.states, executions: r.executions, complete: r.complete };
}
