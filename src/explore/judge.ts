/**
 * Deferral's judgement of one move (explore/stateful.ts header): what it touches, whether it
 * enables anything, and whether a program step absorbs it. The stateful search asks; the state
 * answers by taking the move on a copy (`probe`) or, for a walk that writes no memory, without
 * taking it (`dryWalkFootprint`).
 */
import { tlbLookup } from '../machine/tlb.ts';
import { vpnOf } from '../machine/types.ts';
import { type Footprint, footprintOf } from './footprint.ts';
import type { Sim } from './sim.ts';
import { type Move, MoveKind, moveArg, moveCpu, moveKind, packMove } from './strategy.ts';

export interface Probed {
  readonly child: Sim;
  readonly fp: Footprint;
  readonly enables: boolean;
  /** The child's enabled moves, kept for the search to enter it with (not enumerated twice). */
  readonly moves: readonly Move[];
}

/**
 * Take move `mv` on a copy of `sim`: the copy, the move's footprint, and whether it enables a
 * move the state does not offer (`before`, its enabled moves): a program that waited for a word
 * or for its buffer to empty, an interrupt delivery that waited for the drain, a program
 * waiting on a page-table entry whose accessed bit a walk sets.
 */
export function probe(sim: Sim, mv: Move, before: readonly Move[]): Probed {
  const child = sim.clone();
  child.recordFootprints = true;
  child.apply(mv, undefined);
  let enables = false;
  const moves = child.violation ? [] : child.enabledMoves().slice();
  for (const m of moves) if (!before.includes(m)) enables = true;
  return { child, fp: child.footprint!, enables, moves };
}

/**
 * The footprint of speculative walk `mv`, judged without taking it, when deferral may leave it
 * out on that footprint alone: the walk writes no memory (its leaf's accessed flag is set), so
 * it changes only its CPU's caches and walk budget, which no program, delivery or drain waits
 * for, and its CPU may not evict, so it enables nothing; it ends neither in a violation of an
 * invariant that judges its observations alone (`Invariant.observationOnly`) nor at the step
 * limit. Undefined when any of that is not known: the walk is then probed. A test holds the
 * footprint equal to the one taking the walk gives (properties/deferral.test.ts).
 */
export function dryWalkFootprint(sim: Sim, mv: Move): Footprint | undefined {
  if (moveKind(mv) !== MoveKind.Walk || sim.violation || sim.declared.length > 0) return undefined;
  if (sim.step + 1 >= sim.model.cfg.bounds.maxSteps) return undefined;
  // A CPU that may still evict gets an eviction move for each entry a fill adds.
  if (sim.m.cpu(moveCpu(mv)).evictionsLeft > 0) return undefined;
  const monitor = sim.model.monitor;
  if (!monitor.observationOnly('walk-read')) return undefined;
  const dry = sim.m.dryWalk(moveCpu(mv), sim.vas[moveArg(mv)]!);
  if (!dry) return undefined;
  if (dry.obs.length > 0 && monitor.check(dry.obs, sim.ghost, sim.m, sim.step + 1)) return undefined;
  return footprintOf(dry.events, sim.shape());
}

/**
 * The program move that absorbs speculative walk `mv`, if one is offered: its CPU's next step
 * starts with a user access to the walked address, the TLB misses there (so the access walks
 * itself, from the same memory and caches), the walk is judged without taking it
 * (`dryWalkFootprint`: it writes no memory, its CPU may not evict; `dry` is its footprint, when
 * the caller has it), walks are unbounded (so taking it spends no budget) and the step limit is
 * two steps away or more (walk + access take two steps). Then the walk followed by that access
 * reaches the state the access alone reaches: the same TLB and PSC entries, and the same result
 * for the routine (`routineInput` leaves out whether a TLB hit served it), after which the rest
 * of the access's step runs from the same state. A test takes both on every such pair it meets
 * in the first 3,000 states of each of nine models (properties/deferral.test.ts).
 */
export function absorber(sim: Sim, mv: Move, dry: Footprint | undefined = dryWalkFootprint(sim, mv)): Move | undefined {
  if (moveKind(mv) !== MoveKind.Walk || dry === undefined) return undefined;
  if (sim.step + 2 >= sim.model.cfg.bounds.maxSteps) return undefined;
  const c = moveCpu(mv);
  const va = sim.vas[moveArg(mv)]!;
  const fs = sim.frames[c]!;
  const e = fs[fs.length - 1]?.pending;
  if (!e || e.k !== 'access' || e.va !== va) return undefined;
  const cpu = sim.m.cpu(c);
  if (Number.isFinite(cpu.walksLeft) || tlbLookup(cpu.tlb, cpu.cr3Pcid, vpnOf(va), cpu.pge)) return undefined;
  return packMove(MoveKind.Prog, c);
}
