/**
 * Exhaustive depth-first search with state caching: a state whose fingerprint was seen before
 * is not explored again. Sound because the fingerprint covers everything that decides the
 * future (machine, ghost, each frame's routine and the inputs it has received: routines are
 * deterministic) and because no execution has a cycle (every step consumes program progress or
 * a budget). The preemption bound, when set, is part of the fingerprint, so the pruning stays
 * sound under it too. A fingerprint collision could hide a state: the result carries the
 * birthday-bound probability of one.
 *
 * Partial-order reduction (`por`, default on without a preemption bound): sleep sets
 * (Godefroid) combined with state caching by his revisit rule. Every move's footprint (what it
 * read and wrote, derived from the step's hardware events: footprint.ts `footprintOf`) says
 * what it touched; two moves are independent when no resource is written by one and touched by
 * the other. After exploring move t from a state, t goes to sleep in the states
 * reached by moves independent of it, and is not explored there: the interleaving it would
 * give was already covered. A visited state remembers the sleep set it was explored with; a
 * revisit explores only the moves that were asleep then and are awake now. In an acyclic state
 * graph this reaches every reachable state and every violating transition.
 */
import { collisionProbability } from '../machine/hash.ts';
import type { Violation } from '../invariants/types.ts';
import { BitstateTable } from './bitstate.ts';
import { SleepPool, withSleep } from './sleep-pool.ts';
import type { SharedVisited } from './shared-visited.ts';
import { VisitedTable } from './visited.ts';
import { type Footprint, independent } from './footprint.ts';
import { type Model, Sim } from './sim.ts';
import { Budget, type Limits, type StopKind } from './budget.ts';
import { type Move, MoveKind, moveCpu, moveKind } from './strategy.ts';

export interface StatefulResult {
  readonly complete: boolean;
  readonly reason?: string;
  /** Which budget stopped an incomplete search without a violation. */
  readonly stop?: StopKind;
  readonly violation?: Violation;
  readonly tape?: readonly number[];
  readonly widths?: readonly number[];
  readonly states: number;
  readonly transitions: number;
  /** Distinct terminal states reached. */
  readonly executions: number;
  /** Moves not taken because they were asleep (partial-order reduction). */
  readonly sleepPruned: number;
  /** States where every enabled move was asleep. */
  readonly sleepBlocked: number;
  readonly maxDepth: number;
  readonly collisionProbability: number;
  /** What the visited set holds and costs. */
  readonly store: StoreStats;
}

/**
 * How visited states are stored: 64-bit hashes (hash compaction), bits (bitstate), or 64-bit
 * hashes in a table shared by worker threads (shared-visited.ts). Compact and shared keep each
 * state's sleep set; bitstate keeps none, and under sleep sets marks (state, sleep set) pairs.
 */
export type StoreMode =
  | { readonly kind: 'compact' }
  | { readonly kind: 'bitstate'; readonly log2bits: number }
  | { readonly kind: 'shared'; readonly table: SharedVisited };

export type StoreStats =
  | { readonly kind: 'compact'; readonly bytes: number; readonly sleepSets: number }
  | { readonly kind: 'bitstate'; readonly bytes: number; readonly bits: number; readonly coverage: number }
  | { readonly kind: 'shared'; readonly bytes: number; readonly workers: number };

export interface StatefulOptions {
  readonly timeMs?: number;
  readonly maxStates?: number;
  /** Distinct terminal states (the executions counted) at which the search stops. */
  readonly maxExecutions?: number;
  /** Heap budget in MiB (see budget.ts). */
  readonly maxMemoryMb?: number;
  /** Called on every distinct final state reached without a violation. */
  readonly final?: (sim: Sim) => void;
  /** Keep exploring past violations (litmus outcome enumeration), reporting each here. */
  readonly all?: boolean;
  readonly violation?: (v: Violation, sim: Sim) => void;
  /** Sleep-set partial-order reduction (default: on unless a preemption bound is set). */
  readonly por?: boolean;
  /**
   * Hand a frame's live generator to the child that advances it (default on). Off, every
   * child rebuilds the generator by replaying its inputs: kept to measure the difference.
   */
  readonly steal?: boolean;
  /** Called every 1024 transitions with the search so far; must not print (only the CLI prints). */
  readonly progress?: (p: StatefulProgress) => void;
  /** The visited set (default: hash compaction). */
  readonly store?: StoreMode;
  /** Start from this state (reached with `preemptions` non-default choices) instead of the model's initial one. */
  readonly start?: { readonly sim: Sim; readonly preemptions: number };
  /** Polled with the budgets: a reason to stop now (another worker's finding), or undefined. */
  readonly stop?: () => { readonly kind: StopKind; readonly reason: string } | undefined;
}

export interface StatefulProgress {
  readonly states: number;
  readonly transitions: number;
  readonly executions: number;
  /** Current depth of the DFS stack, and the deepest so far. */
  readonly depth: number;
  readonly maxDepth: number;
  readonly elapsedMs: number;
}

/** A move asleep or done, with what it touched. */
interface Sleeper {
  readonly move: Move;
  readonly fp: Footprint;
}

interface Entry {
  readonly sim: Sim;
  readonly moves: readonly Move[];
  /** Indices into `moves` to explore, in order. */
  readonly order: readonly number[];
  pos: number;
  /** Index of the move being explored now (for the tape). */
  cur: number;
  readonly sleep: readonly Sleeper[];
  readonly done: Sleeper[];
  readonly preemptions: number;
}

function asleepIn(sleep: readonly Sleeper[], m: Move): boolean {
  for (const u of sleep) if (u.move === m) return true;
  return false;
}

/** Whether a program move of cpu `c` is still to be explored from `e`. */
function stillNeeds(e: Entry, c: number): boolean {
  for (let k = e.pos; k < e.order.length; k++) {
    const m = e.moves[e.order[k]!]!;
    if (moveKind(m) === MoveKind.Prog && moveCpu(m) === c) return true;
  }
  return false;
}

/** The budgets of a stateful search's options. */
export const limitsOf = (opt: StatefulOptions): Limits => ({
  ...(opt.timeMs === undefined ? {} : { timeMs: opt.timeMs }),
  ...(opt.maxStates === undefined ? {} : { maxStates: opt.maxStates }),
  ...(opt.maxMemoryMb === undefined ? {} : { maxMemoryMb: opt.maxMemoryMb }),
  ...(opt.maxExecutions === undefined ? {} : { maxExecutions: opt.maxExecutions }),
});

export function statefulDfs(model: Model, opt: StatefulOptions = {}): StatefulResult {
  const t0 = Date.now();
  const budget = new Budget(limitsOf(opt));
  const bound = model.cfg.bounds.preemptions;
  const por = opt.por ?? bound === undefined;
  const root = opt.start?.sim ?? Sim.start(model, false);
  root.recordFootprints = por;
  const startPreemptions = opt.start?.preemptions ?? 0;
  const store = opt.store ?? { kind: 'compact' };
  /** Hash -> id (in `pool`) of the moves asleep when the state was (last) explored. */
  const visited = store.kind === 'compact' ? new VisitedTable(por) : undefined;
  const bitstate = store.kind === 'bitstate' ? new BitstateTable(store.log2bits) : undefined;
  const shared = store.kind === 'shared' ? store.table : undefined;
  const pool = new SleepPool();
  const h = new Uint32Array(2);
  const stored = (): number => visited?.size ?? bitstate?.size ?? shared?.size ?? 0;
  let transitions = 0;
  let executions = 0;
  let sleepPruned = 0;
  let sleepBlocked = 0;
  let maxDepth = 0;
  const stack: Entry[] = [];
  const result = (extra: Partial<StatefulResult> & { complete: boolean }): StatefulResult => ({
    states: stored(),
    transitions,
    executions,
    sleepPruned,
    sleepBlocked,
    maxDepth,
    collisionProbability: collisionProbability(stored(), 64),
    store: bitstate
      ? { kind: 'bitstate', bytes: bitstate.bytes, bits: bitstate.bits, coverage: bitstate.coverage() }
      : shared
        ? { kind: 'shared', bytes: shared.bytes, workers: 1 }
        : { kind: 'compact', bytes: visited?.bytes ?? 0, sleepSets: pool.count },
    ...extra,
  });
  const tapeOf = (): { tape: number[]; widths: number[] } => {
    const tape: number[] = [];
    const widths: number[] = [];
    for (const e of stack) {
      if (e.moves.length > 1) {
        tape.push(e.cur);
        widths.push(e.moves.length);
      }
    }
    return { tape, widths };
  };
  /**
   * Push state `sim` (hash in `h`) reached with sleep set `sleep`; returns a violation found at
   * a final state. Bitstate keeps no sleep sets: it marks the pair (state, sleep set), which a
   * stateless sleep-set search would explore the same way every time it met it.
   */
  const enter = (sim: Sim, sleep: readonly Sleeper[], preemptions: number): Violation | undefined => {
    const moves = sim.enabledMoves();
    // First visit: explore the moves not asleep. Revisit: only those asleep last time and awake now.
    let woke: readonly Move[] | undefined;
    if (bitstate) {
      if (!bitstate.testAndSet(sleep.length === 0 ? h : withSleep(h, sleep))) return undefined;
    } else if (shared) {
      // The same revisit rule over the table the workers share (shared-visited.ts).
      const slot = shared.claim(h);
      if (slot < 0) shared.store(~slot, sleep.map((u) => u.move));
      else {
        for (;;) {
          const old = shared.read(slot);
          const before = shared.movesOf(old);
          // Not known (the arena was full): every move not asleep now may still be unexplored.
          woke = (before ?? moves).filter((m) => !asleepIn(sleep, m));
          if (woke.length === 0) return undefined;
          const still = before === undefined ? sleep.map((u) => u.move) : before.filter((m) => asleepIn(sleep, m));
          if (shared.replace(slot, old, still)) break;
        }
      }
    } else {
      const slot = visited!.findOrInsert(h, sleep.length === 0 ? 0 : pool.idOf(sleep.map((u) => u.move)));
      if (slot >= 0) {
        const before = pool.get(visited!.value(slot));
        woke = before.filter((m) => !asleepIn(sleep, m));
        if (woke.length === 0) return undefined;
        visited!.setValue(slot, pool.idOf(before.filter((m) => asleepIn(sleep, m))));
      }
    }
    if (moves.length === 0) {
      sim.finish();
      executions++;
      if (!sim.violation) opt.final?.(sim);
      else if (opt.all) opt.violation?.(sim.violation, sim);
      return opt.all ? undefined : sim.violation;
    }
    const order: number[] = [];
    for (let i = 0; i < moves.length; i++) {
      const m = moves[i]!;
      if (moveKind(m) === MoveKind.End || (woke ? woke.includes(m) : !asleepIn(sleep, m))) order.push(i);
    }
    sleepPruned += moves.length - order.length;
    if (order.length === 0) {
      sleepBlocked++;
      return undefined;
    }
    stack.push({ sim, moves: moves.slice(), order, pos: 0, cur: -1, sleep, done: [], preemptions });
    if (stack.length > maxDepth) maxDepth = stack.length;
    return undefined;
  };
  root.fingerprint(bound === undefined ? 0 : startPreemptions, h);
  const v0 = root.violation ?? enter(root, [], startPreemptions);
  if (v0) return result({ complete: false, violation: v0, tape: [], widths: [] });

  const maxExec = opt.maxExecutions;
  while (stack.length > 0) {
    // The execution budget is checked exactly (the others every 1024 transitions).
    if (maxExec !== undefined && executions >= maxExec) return result({ complete: false, reason: `execution budget of ${maxExec} ran out`, stop: 'executions' });
    const top = stack[stack.length - 1]!;
    if (top.pos >= top.order.length) {
      stack.pop();
      continue;
    }
    if ((transitions & 1023) === 0) {
      opt.progress?.({ states: stored(), transitions, executions, depth: stack.length, maxDepth, elapsedMs: Date.now() - t0 });
      const stop = opt.stop?.() ?? budget.exceeded(stored(), executions);
      if (stop) return result({ complete: false, reason: stop.reason, stop: stop.kind });
    }
    const i = top.order[top.pos++]!;
    top.cur = i;
    const mv = top.moves[i]!;
    const preemptions = top.preemptions + (i > 0 && top.moves.length > 1 ? 1 : 0);
    if (bound !== undefined && preemptions > bound) continue;
    // The last child may take over its parent's state: the parent is done after it.
    const child = top.pos === top.order.length ? top.sim : top.sim.cloneFor(mv, opt.steal ?? true, (c) => stillNeeds(top, c));
    const alive = child.apply(mv, undefined);
    transitions++;
    let sleep: Sleeper[] = [];
    if (por && child.footprint) {
      const fpT = child.footprint;
      for (const u of top.sleep) if (independent(u.fp, fpT)) sleep.push(u);
      for (const u of top.done) if (independent(u.fp, fpT)) sleep.push(u);
      top.done.push({ move: mv, fp: fpT });
    } else {
      sleep = [];
    }
    if (child.violation) {
      if (opt.all) {
        opt.violation?.(child.violation, child);
        continue;
      }
      return result({ complete: false, violation: child.violation, ...tapeOf() });
    }
    if (!alive) {
      executions++;
      opt.final?.(child);
      continue;
    }
    child.fingerprint(bound === undefined ? 0 : preemptions, h);
    const v = enter(child, sleep, preemptions);
    if (v) return result({ complete: false, violation: v, ...tapeOf() });
  }
  return result({ complete: true });
}
