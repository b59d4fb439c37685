/**
 * Source-DPOR with sleep sets (Abdulla, Aronis, Jonsson and Sagonas, "Optimal dynamic partial
 * order reduction", POPL 2014, Algorithm 1) over the stateless re-execution engine.
 *
 * Processes are the engine's actors, each named by its packed move: a CPU's program (interrupt
 * handlers included), its IPI delivery, its store-buffer drain, and each speculative walk or
 * eviction of (CPU, address). Every actor's next step is a function of the state, and every
 * step's footprint - what it read and wrote, derived from its hardware events
 * (footprint.ts `footprintOf`) - covers its enabling conditions too: a `wait`
 * reads the word it spins on, a store writes its CPU's buffer (which a full buffer blocks),
 * IPI delivery writes the target's interrupt state, a walk reads the page-table words and the
 * CPU's caches that decide whether it changes anything. Two steps are dependent when one
 * writes a resource the other touches.
 *
 * The `end` move (offered where only walks and evictions remain) is an actor too: it disables
 * every walk and eviction, so it conflicts with them all, and an execution ends there.
 *
 * For each new event the search finds its races: earlier events of other actors that it
 * depends on with no happens-before path through events in between (vector clocks). For a
 * race e < e' it computes v = notdep(e).proc(e') and, at the state before e, adds an initial
 * of v to the backtrack set unless one is there already. An initial that is not enabled there
 * means v cannot run from that state (dependence covers enabling), so the race is not
 * reversible and adds nothing. Sleep sets: after exploring p from a state, p sleeps in the
 * siblings explored after it and in their descendants while the moves taken are independent
 * of it; a state whose enabled moves all sleep ends a sleep-set-blocked execution.
 *
 * Backtracking restores the nearest saved copy of the state above the backtrack point (one
 * every CHECKPOINT_EVERY levels of the current execution) and replays the few moves below it;
 * a restored copy rebuilds each actor by feeding its recorded inputs to a fresh generator.
 */
import type { Violation } from '../invariants/types.ts';
import { type Footprint, independent } from './footprint.ts';
import { type Model, Sim } from './sim.ts';
import type { Move } from './strategy.ts';
import { Budget, type StopKind } from './budget.ts';

export interface DporOptions {
  readonly timeMs?: number;
  readonly maxExecutions?: number;
  /** Heap budget in MiB (see budget.ts). */
  readonly maxMemoryMb?: number;
  /** Keep exploring past violations, reporting each here. */
  readonly all?: boolean;
  readonly violation?: (v: Violation, sim: Sim) => void;
  /** Called on the final state of every complete execution without a violation. */
  readonly final?: (sim: Sim) => void;
}

export interface DporResult {
  readonly complete: boolean;
  readonly reason?: string;
  /** Which budget stopped an incomplete search without a violation. */
  readonly stop?: StopKind;
  readonly violation?: Violation;
  /** The moves of the violating execution, in order (see `tapeOf`). */
  readonly moves?: readonly Move[];
  /** Executions explored to their end (no move left, or a violation). */
  readonly executions: number;
  /** Executions cut because every enabled move was asleep. */
  readonly sleepBlocked: number;
  /** Steps executed for the first time, and steps re-executed to reach a backtrack point. */
  readonly steps: number;
  readonly replayedSteps: number;
  /** Races found, and backtrack points they added. */
  readonly races: number;
  readonly backtracks: number;
  readonly maxDepth: number;
}

interface Event {
  readonly proc: Move;
  readonly fp: Footprint;
  readonly slot: number;
  /** Position of this event among its actor's events (1-based). */
  readonly seq: number;
  /** Vector clock: for each actor slot, how many of its events happen before or at this one. */
  readonly vc: number[];
}

interface Sleeper {
  readonly move: Move;
  readonly fp: Footprint;
}

interface Level {
  readonly enabled: readonly Move[];
  readonly backtrack: Move[];
  readonly sleep: readonly Sleeper[];
  readonly done: Sleeper[];
  taken: Move;
  ev: Event | undefined;
}

/** Depth between saved copies of the state: backtracking replays at most this many steps. */
const CHECKPOINT_EVERY = 4;

const asleep = (set: readonly Sleeper[], m: Move): boolean => set.some((s) => s.move === m);

export function sourceDpor(model: Model, opt: DporOptions = {}): DporResult {
  const budget = new Budget({
    ...(opt.timeMs === undefined ? {} : { timeMs: opt.timeMs }),
    ...(opt.maxExecutions === undefined ? {} : { maxExecutions: opt.maxExecutions }),
    ...(opt.maxMemoryMb === undefined ? {} : { maxMemoryMb: opt.maxMemoryMb }),
  });
  const slots = new Map<Move, number>();
  const slotOf = (m: Move): number => {
    let s = slots.get(m);
    if (s === undefined) {
      s = slots.size;
      slots.set(m, s);
    }
    return s;
  };
  const levels: Level[] = [];
  let executions = 0;
  let sleepBlocked = 0;
  let steps = 0;
  let replayedSteps = 0;
  let races = 0;
  let backtracks = 0;
  let maxDepth = 0;
  const result = (extra: Partial<DporResult> & { complete: boolean }): DporResult => ({
    executions,
    sleepBlocked,
    steps,
    replayedSteps,
    races,
    backtracks,
    maxDepth,
    ...extra,
  });

  /** Happens-before between event `a` (earlier) and event `b`. */
  const hb = (a: Event, b: Event): boolean => (b.vc[a.slot] ?? 0) >= a.seq;

  /** Vector clock and races of the event just taken at depth `i`. */
  const addEvent = (i: number, proc: Move, fp: Footprint): Event => {
    const slot = slotOf(proc);
    let prev: Event | undefined;
    for (let j = i - 1; j >= 0; j--) {
      const e = levels[j]!.ev!;
      if (e.proc === proc) {
        prev = e;
        break;
      }
    }
    const vc = prev ? prev.vc.slice() : [];
    const racing: number[] = [];
    for (let j = i - 1; j >= 0; j--) {
      const e = levels[j]!.ev!;
      if ((vc[e.slot] ?? 0) >= e.seq) continue;
      if (independent(e.fp, fp)) continue;
      racing.push(j);
      for (let s = 0; s < e.vc.length; s++) if ((vc[s] ?? 0) < e.vc[s]!) vc[s] = e.vc[s]!;
    }
    const seq = (prev?.seq ?? 0) + 1;
    while (vc.length <= slot) vc.push(0);
    vc[slot] = seq;
    const ev: Event = { proc, fp, slot, seq, vc };
    for (const j of racing) {
      races++;
      reverse(j, i, ev);
    }
    return ev;
  };

  /** Race between the event at depth `j` and `ev` (depth `i`): schedule its reversal. */
  const reverse = (j: number, i: number, ev: Event): void => {
    const e = levels[j]!.ev!;
    // v = the events after e that do not happen after it, then ev; its initials are the
    // actors whose first event in v has no happens-before predecessor in v.
    const v: Event[] = [];
    for (let k = j + 1; k < i; k++) {
      const x = levels[k]!.ev!;
      if (!hb(e, x)) v.push(x);
    }
    v.push(ev);
    const lv = levels[j]!;
    const initials: Move[] = [];
    for (let a = 0; a < v.length; a++) {
      const x = v[a]!;
      let first = true;
      for (let b = 0; b < a && first; b++) if (hb(v[b]!, x)) first = false;
      if (first && lv.enabled.includes(x.proc)) initials.push(x.proc);
    }
    if (initials.length === 0) return; // v cannot run from there: not a reversible race
    if (initials.some((p) => lv.backtrack.includes(p))) return;
    lv.backtrack.push(initials.includes(ev.proc) ? ev.proc : initials[0]!);
    backtracks++;
  };

  let sim = Sim.start(model, false);
  sim.recordFootprints = true;
  /** checkpoints[k]: a copy of the state before the move at depth k * CHECKPOINT_EVERY. */
  const checkpoints: Sim[] = [];
  let sleep: readonly Sleeper[] = [];
  /** A level whose move was just switched to an untried backtrack entry. */
  let resume: Level | undefined;

  for (;;) {
    // Run the current execution to its end.
    let violated = false;
    let moves: readonly Move[] = resume ? [] : sim.enabledMoves().slice();
    for (;;) {
      let lv: Level;
      if (resume) {
        lv = resume;
        resume = undefined;
      } else {
        if (moves.length === 0) {
          sim.finish();
          executions++;
          if (sim.violation) violated = true;
          else opt.final?.(sim);
          break;
        }
        const first = moves.find((m) => !asleep(sleep, m));
        if (first === undefined) {
          sleepBlocked++;
          break;
        }
        lv = { enabled: moves, backtrack: [first], sleep, done: [], taken: first, ev: undefined };
        levels.push(lv);
        if (levels.length > maxDepth) maxDepth = levels.length;
      }
      const depth = levels.length - 1;
      if (depth % CHECKPOINT_EVERY === 0 && checkpoints.length === depth / CHECKPOINT_EVERY) checkpoints.push(sim.clone());
      const alive = sim.apply(lv.taken, undefined);
      steps++;
      const fp = sim.footprint ?? [];
      lv.ev = addEvent(levels.length - 1, lv.taken, fp);
      // A violation or `end` ends the execution: it disables every actor.
      moves = sim.violation || !alive ? [] : sim.enabledMoves().slice();
      // An actor this step disabled (a walk made pointless, a wait whose condition it broke,
      // an IPI it masked, anything at a violation) never runs in this execution, so no race
      // can show it; its step conflicts with this one, and could have come first.
      for (const p of lv.enabled) {
        if (p !== lv.taken && !moves.includes(p) && !lv.backtrack.includes(p)) {
          lv.backtrack.push(p);
          backtracks++;
        }
      }
      const next: Sleeper[] = [];
      for (const q of lv.sleep) if (independent(q.fp, fp)) next.push(q);
      for (const q of lv.done) if (independent(q.fp, fp)) next.push(q);
      sleep = next;
      if (sim.violation) {
        executions++;
        violated = true;
        break;
      }
      if (!alive) {
        executions++;
        opt.final?.(sim);
        break;
      }
    }
    if (violated) {
      const moves = levels.map((l) => l.taken);
      if (!opt.all) return result({ complete: false, violation: sim.violation!, moves });
      opt.violation?.(sim.violation!, sim);
    }
    const stop = budget.exceeded(0, executions);
    if (stop) return result({ complete: false, reason: stop.reason, stop: stop.kind });
    // Backtrack to the deepest level with an untried, awake backtrack entry.
    while (levels.length > 0) {
      const lv = levels[levels.length - 1]!;
      lv.done.push({ move: lv.taken, fp: lv.ev!.fp });
      const untried = lv.backtrack.find((p) => !asleep(lv.done, p) && !asleep(lv.sleep, p));
      if (untried !== undefined) {
        lv.taken = untried;
        lv.ev = undefined;
        resume = lv;
        break;
      }
      levels.pop();
    }
    if (!resume) return result({ complete: true });
    // Rebuild the state before the resumed level from the nearest checkpoint at or above it.
    const r = levels.length - 1;
    const k = Math.floor(r / CHECKPOINT_EVERY);
    checkpoints.length = Math.min(checkpoints.length, k + 1);
    sim = checkpoints[k]!.clone();
    sim.recordFootprints = false;
    for (let d = k * CHECKPOINT_EVERY; d < r; d++) {
      sim.apply(levels[d]!.taken, undefined);
      replayedSteps++;
    }
    sim.recordFootprints = true;
    sleep = resume.sleep;
  }
}

/**
 * The choice tape of a move sequence for the ordinary engine (which offers `end` where only
 * optional moves remain), so a DPOR counterexample replays like any other.
 */
export function tapeOf(model: Model, moves: readonly Move[]): { tape: number[]; widths: number[] } {
  const sim = Sim.start(model, false);
  const tape: number[] = [];
  const widths: number[] = [];
  for (const mv of moves) {
    const enabled = sim.enabledMoves();
    const i = enabled.indexOf(mv);
    if (i < 0) throw new Error('[tlbcheck bug] DPOR move sequence does not replay');
    if (enabled.length > 1) {
      tape.push(i);
      widths.push(enabled.length);
    }
    sim.apply(mv, enabled.length > 1 ? tape.length - 1 : undefined);
    if (sim.violation) break;
  }
  return { tape, widths };
}
