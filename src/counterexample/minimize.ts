/**
 * Counterexample minimization: shrink an execution while the same invariant stays violated on
 * the same variant and scenario family. Every candidate is re-validated by running it; a
 * candidate that does not fit, ends without a violation or breaks another invariant is just
 * rejected. Passes, repeated until none improves:
 *
 * 1. delta debugging over the choice tape (drop chunks of choices, halving the chunk size);
 * 2. lowering each choice toward 0 (fewer preemptions);
 * 3. removing moves from the move script (runs of moves, then single ones: a speculative
 *    walk, an early drain, an IPI taken early, a program step taken out of turn), which keeps
 *    the other actors' moves aligned where a tape edit would shift every later index;
 * 4. shrinking the scenario: one CPU fewer (its moves dropped, the others renumbered) and,
 *    for generated scenarios, one operation fewer; the execution is carried over by the move
 *    script, or else by aligning the recorded operations as replay across variants does, or
 *    else found anew by a bounded breadth-first search of the smaller scenario.
 *
 * "Smaller" is lexicographic over (CPUs, operations, steps, preemptions, walks, sum of the
 * tape, tape length), so every accepted candidate is strictly simpler and the loop ends.
 */
import type { Violation } from '../invariants/types.ts';
import { type Model, prepare } from '../explore/engine.ts';
import { type Move, MoveKind, moveArg, moveCpu, moveKind, packMove } from '../explore/strategy.ts';
import { type GeneratedSpec, generatedScenario, opCount } from '../scenario/generated.ts';
import type { TraceEvent } from '../explore/sim.ts';
import type { EventData, LocRef } from '../explore/event-data.ts';
import type { Layout, LocInfo } from '../kernel/layout.ts';
import { ENTRIES, type Loc } from '../machine/types.ts';
import { replayAligned } from './align.ts';
import { shortestViolation } from './shortest.ts';
import { type Driven, driveScript, driveTape } from './drive.ts';

/** A model, and the generated scenario it was built from, if any. */
export interface Subject {
  readonly model: Model;
  readonly generated?: GeneratedSpec;
}

export interface Size {
  readonly steps: number;
  readonly preemptions: number;
  readonly walks: number;
  readonly cpus: number;
  /** Operations of a generated scenario (0 for a built-in one). */
  readonly ops: number;
}

export interface Minimized {
  readonly subject: Subject;
  readonly tape: readonly number[];
  readonly widths: readonly number[];
  readonly violation: Violation;
  readonly before: Size;
  readonly after: Size;
  /** Candidates run. */
  readonly candidates: number;
}

export function sizeOf(subject: Subject, d: Driven): Size {
  return {
    steps: d.steps,
    preemptions: d.tape.filter((c) => c !== 0).length,
    walks: d.moves.filter((m) => moveKind(m) === MoveKind.Walk).length,
    cpus: subject.model.cfg.params.cpus,
    ops: subject.generated ? opCount(subject.generated) : 0,
  };
}

function key(s: Size, d: Driven): number[] {
  return [s.cpus, s.ops, s.steps, s.preemptions, s.walks, d.tape.reduce((a, b) => a + b, 0), d.tape.length];
}

function less(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** The same check on a generated scenario with `spec`. */
export function withSpec(model: Model, spec: GeneratedSpec): Subject {
  const cfg = model.cfg;
  return { model: prepare({ ...cfg, scenario: generatedScenario(spec), params: { cpus: spec.cpus.length } }), generated: spec };
}

interface Smaller {
  readonly subject: Subject;
  readonly map: (m: Move) => Move | undefined;
  /** The same mapping for recorded trace events (undefined: the event is dropped). */
  readonly mapEvent: (e: TraceEvent) => TraceEvent | undefined;
}

const same = <T>(x: T): T => x;

/** Scenarios one step simpler than `s`, with the mapping of moves onto them. */
export function smallerScenarios(s: Subject): Smaller[] {
  const cfg = s.model.cfg;
  const n = cfg.params.cpus;
  const out: Smaller[] = [];
  const dropCpu = (i: number) => (m: Move): Move | undefined => {
    const c = moveCpu(m);
    if (moveKind(m) === MoveKind.End) return m;
    if (c === i) return undefined;
    return packMove(moveKind(m), c > i ? c - 1 : c, moveArg(m));
  };
  // Recorded events of the other CPUs, renumbered: the CPUs named in their data (and their
  // locations, placed in the smaller world's layout) and in their text.
  const dropCpuEvent = (i: number, to: Layout) => (e: TraceEvent): TraceEvent | undefined => {
    if (e.cpu === i) return undefined;
    const text = renameCpus(e.text, i);
    const data = e.data === undefined ? undefined : dropCpuData(e.data, i, to);
    return { ...e, cpu: e.cpu > i ? e.cpu - 1 : e.cpu, text, ...(data === undefined ? {} : { data }) };
  };
  if (s.generated) {
    const g = s.generated;
    if (n > 1) {
      for (let i = n - 1; i >= 0; i--) {
        const subject = withSpec(s.model, { ...g, cpus: g.cpus.filter((_, j) => j !== i) });
        out.push({ subject, map: dropCpu(i), mapEvent: dropCpuEvent(i, subject.model.layout) });
      }
    }
    g.cpus.forEach((c, i) => {
      for (let j = c.ops.length - 1; j >= 0; j--) {
        const cpus = g.cpus.map((x, k) => (k === i ? { ...x, ops: x.ops.filter((_, l) => l !== j) } : x));
        out.push({ subject: withSpec(s.model, { ...g, cpus }), map: same, mapEvent: same });
      }
    });
  } else if (n > cfg.scenario.cpus.min) {
    const model = prepare({ ...cfg, params: { cpus: n - 1 } });
    for (let i = n - 1; i >= 0; i--) out.push({ subject: { model }, map: dropCpu(i), mapEvent: dropCpuEvent(i, model.layout) });
  }
  return out;
}

/** `cpuN` in a text, for N above the dropped CPU `i`, becomes `cpu(N-1)`. */
const renameCpus = (text: string, i: number): string => text.replace(/cpu(\d+)/g, (all, k: string) => (Number(k) > i ? `cpu${Number(k) - 1}` : all));

/** A CPU number with CPU `i` dropped (`i` itself stays: its events are dropped anyway). */
const renumber = (c: number, i: number): number => (c > i ? c - 1 : c);

/** Where a location is in layout `to`, by what it is (its number in the bigger world's layout means nothing there). */
function placeLoc(is: LocInfo, to: Layout): Loc | undefined {
  try {
    switch (is.kind) {
      case 'table':
        return is.pfn * ENTRIES + is.index;
      case 'mm':
        return to.mmField(is.mm, is.field);
      case 'pcpu':
        return to.pcpu(is.cpu, is.field);
      case 'csd':
        return to.csd(is.sender, is.target);
      case 'var':
        return to.findVar(is.name);
    }
  } catch {
    // not in the smaller world (a CPU or mm it does not have)
    return undefined;
  }
}

function dropCpuLoc(at: LocRef, i: number, to: Layout): LocRef {
  const x = at.is;
  const is: LocInfo =
    x.kind === 'pcpu'
      ? { ...x, cpu: renumber(x.cpu, i) }
      : x.kind === 'csd'
        ? { ...x, sender: renumber(x.sender, i), target: renumber(x.target, i) }
        : x.kind === 'var'
          ? { ...x, name: renameCpus(x.name, i) }
          : x;
  return { loc: placeLoc(is, to) ?? at.loc, name: renameCpus(at.name, i), is };
}

/**
 * An event's data with CPU `i` dropped: the CPUs it names (a location's CPU fields, an IPI's
 * target, a broadcast's issuer, a cross-call's sender, task numbers past the CPUs' first tasks)
 * renumbered, and its locations placed in layout `to`.
 */
export function dropCpuData(d: EventData, i: number, to: Layout): EventData {
  switch (d.k) {
    case 'load':
      // The CPU bits a cpumask_test_cpu kept: bit i goes, the ones above it move down.
      return d.bits === undefined ? { ...d, at: dropCpuLoc(d.at, i, to) } : { ...d, at: dropCpuLoc(d.at, i, to), bits: (d.bits & (2 ** i - 1)) | Math.floor(d.bits / 2 ** (i + 1)) * 2 ** i };
    case 'store':
    case 'wait':
    case 'drain':
    case 'rmw':
      return { ...d, at: dropCpuLoc(d.at, i, to) };
    case 'effect':
      // A kind recorded by its plain fields: the word it names is placed like every other.
      return d.at ? { ...d, at: dropCpuLoc(d.at, i, to) } : d;
    case 'ipi-send':
    case 'ipi-raise':
      return { ...d, target: renumber(d.target, i) };
    case 'bcast': {
      // The recorded INVLPGB is the machine's, which names its issuer too.
      const inv: Readonly<Record<string, unknown>> = d.inv as unknown as Readonly<Record<string, unknown>>;
      const from = inv.from;
      return { ...d, from: renumber(d.from, i), inv: typeof from === 'number' ? ({ ...inv, from: renumber(from, i) } as unknown as typeof d.inv) : d.inv };
    }
    case 'ipi-take':
      return { ...d, calls: d.calls.map((x) => ({ ...x, sender: renumber(x.sender, i) })) };
    case 'sched':
      // Tasks 0..n-1 are the CPUs' first tasks, the scenario's own tasks follow: both shift down by one.
      return { ...d, prev: renumber(d.prev, i), task: renumber(d.task, i), from: renameCpus(d.from, i), to: renameCpus(d.to, i) };
    default:
      return d;
  }
}

/** Map walk moves between worlds by the address walked (the va lists may differ). */
function remapWalks(from: Model, to: Model, m: Move): Move | undefined {
  if (moveKind(m) !== MoveKind.Walk) return m;
  const i = to.world.vas.indexOf(from.world.vas[moveArg(m)] ?? -1);
  return i < 0 ? undefined : packMove(MoveKind.Walk, moveCpu(m), i);
}

/** States the search of a smaller scenario may visit before the minimizer gives that one up. */
const SMALLER_SEARCH_STATES = 100_000;

/** States the last, same-world search may visit (small worlds are searched whole; larger ones keep the local result). */
const FINAL_SEARCH_STATES = 50_000;

export function minimize(subject0: Subject, tape0: readonly number[], invariant: string, budget = 20_000): Minimized {
  let candidates = 0;
  const run = (s: Subject, f: (m: Model) => Driven): Driven | undefined => {
    candidates++;
    const d = f(s.model);
    return d.violation?.invariant === invariant ? d : undefined;
  };
  const first = run(subject0, (m) => driveTape(m, tape0));
  if (!first) throw new Error(`[tlbcheck bug] the tape to minimize does not violate ${invariant}`);
  let subject = subject0;
  let best = first;
  let bestKey = key(sizeOf(subject, best), best);
  const before = sizeOf(subject, best);
  const offer = (s: Subject, d: Driven | undefined): boolean => {
    if (!d) return false;
    const k = key(sizeOf(s, d), d);
    if (!less(k, bestKey)) return false;
    subject = s;
    best = d;
    bestKey = k;
    return true;
  };
  let improved = true;
  while (improved && candidates < budget) {
    improved = false;
    // 4. fewer CPUs / operations first: everything after works on a smaller world.
    // Each smaller world is tried with the move script mapped onto it, then by aligning the
    // recorded operations (align.ts), which survives routines that take fewer steps there
    // (e.g. a flush that sends one IPI fewer).
    const trace = driveTape(subject.model, best.tape, true).trace ?? [];
    for (const sm of smallerScenarios(subject)) {
      const script = best.moves.map(sm.map).filter((m): m is Move => m !== undefined);
      const from = subject.model;
      const mapped = script.map((m) => remapWalks(from, sm.subject.model, m)).filter((m): m is Move => m !== undefined);
      if (offer(sm.subject, run(sm.subject, (m) => driveScript(m, mapped)))) {
        improved = true;
        break;
      }
      const events = trace.map(sm.mapEvent).filter((e): e is TraceEvent => e !== undefined);
      const aligned = replayAligned(sm.subject.model, events);
      if (aligned.kind === 'violated' && offer(sm.subject, run(sm.subject, (m) => driveScript(m, aligned.moves)))) {
        improved = true;
        break;
      }
      // Neither carries the execution over: the smaller world may still break the invariant by
      // another interleaving (a speculative walk instead of the dropped access): search it,
      // breadth-first and bounded, for its shortest violation.
      const found = shortestViolation(sm.subject.model, invariant, { maxStates: SMALLER_SEARCH_STATES });
      if (found && offer(sm.subject, run(sm.subject, (m) => driveTape(m, found.tape)))) {
        improved = true;
        break;
      }
    }
    if (improved) continue;
    // 1. delta debugging over the tape.
    for (let chunk = Math.max(1, best.tape.length >> 1); chunk >= 1 && candidates < budget; chunk >>= 1) {
      for (let at = 0; at < best.tape.length; ) {
        const t = [...best.tape.slice(0, at), ...best.tape.slice(at + chunk)];
        if (offer(subject, run(subject, (m) => driveTape(m, t)))) improved = true;
        else at += chunk;
      }
    }
    // 2. lower each choice toward 0.
    for (let i = 0; i < best.tape.length && candidates < budget; i++) {
      for (let v = 0; v < best.tape[i]!; v++) {
        const t = best.tape.slice();
        t[i] = v;
        if (offer(subject, run(subject, (m) => driveTape(m, t)))) {
          improved = true;
          break;
        }
      }
    }
    // 3a. delta debugging over the move script: drop runs of moves (a detour of one actor).
    for (let chunk = Math.max(2, best.moves.length >> 2); chunk >= 2 && candidates < budget; chunk >>= 1) {
      for (let at = 0; at < best.moves.length && candidates < budget; ) {
        const script = [...best.moves.slice(0, at), ...best.moves.slice(at + chunk)];
        if (offer(subject, run(subject, (m) => driveScript(m, script)))) improved = true;
        else at += chunk;
      }
    }
    // 3b. remove one move from the script (hardware events first).
    const order = best.moves.map((m, i) => ({ m, i })).sort((a, b) => Number(moveKind(a.m) === MoveKind.Prog) - Number(moveKind(b.m) === MoveKind.Prog));
    for (const { i } of order) {
      if (candidates >= budget) break;
      const script = [...best.moves.slice(0, i), ...best.moves.slice(i + 1)];
      if (offer(subject, run(subject, (m) => driveScript(m, script)))) {
        improved = true;
        break;
      }
    }
  }
  // 5. The steps above stop at a local minimum (a shorter execution may need several moves
  // changed at once): search the final world breadth-first, bounded, for its shortest violation.
  if (candidates < budget) {
    const found = shortestViolation(subject.model, invariant, { maxStates: FINAL_SEARCH_STATES, maxDepth: sizeOf(subject, best).steps });
    if (found) offer(subject, run(subject, (m) => driveTape(m, found.tape)));
  }
  return { subject, tape: best.tape, widths: best.widths, violation: best.violation!, before, after: sizeOf(subject, best), candidates };
}
