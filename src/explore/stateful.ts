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
 *
 * Deferral (`defer`, with `por`, default on; `deferralApplies`): sleep sets prune transitions,
 * not states, and speculative walks and store-buffer drains are half of a search's moves, most
 * of which commute with everything else a state offers. So at a first visit a *deferrable*
 * move (a walk of a CPU without an eviction budget; the drain of the last store in a buffer to
 * a word that is not a page-table entry) is left out when it is independent of every other
 * move of the state (explored or asleep) and of every deferrable move kept, does not end the
 * execution with a violation, and enables no move the state does not offer; one is kept if
 * nothing else would be. Each candidate is judged by taking it on a copy of the state
 * (`probe`, judge.ts), which becomes its child when it is kept. The other moves then form a
 * persistent set T (Godefroid): a run of moves outside T from the state is made of left-out
 * moves only (none enables anything, and the programs that could, stay put in such a run), and
 * each of them is independent of T. A left-out walk's CPU cannot evict, since an eviction move
 * names a TLB or PSC slot by position, which a fill shifts; a left-out drain empties its
 * buffer, so no further drain of that CPU (another transition under the same name) follows.
 * So exploring T reaches every state a run through a left-out move would, with the move taken
 * later: at the first state where something conflicts with it, at the latest when nothing else
 * is left (a walk conflicts with the `end` move). The search is acyclic, so nothing is put off
 * forever, and the move taken then does what it would have done (nothing in between touched
 * what it reads or writes). With sleep sets the explored set is T minus the sleeping moves; a
 * revisit explores the moves woken, as before.
 *
 * Absorbed walks: a walk whose only conflict is with its own CPU's next program step, where that
 * step starts with a user access to the walked address that misses the TLB (`absorber`, judge.ts: the
 * walk writes no memory, its CPU may not evict, walks are unbounded, the step limit is not
 * within two steps), is left out too. In every execution, push the walk later past the
 * moves independent of it: either it meets another conflicting move, before
 * which a later state keeps it as above, or it lands right before that access, and walk + access
 * reach the state the access alone reaches (the access walks itself from the same memory and
 * caches; the routine never sees whether a TLB hit served it). So every final state and
 * violating transition is still reached, without the walk. Tested by taking both on every such
 * pair met in the first 3,000 states of each of nine models (properties/deferral.test.ts).
 *
 * What this preserves is every final state and every violating transition; a state between two
 * left-out moves is not visited. The monitor's invariants judge transitions on what their
 * footprints cover, so they are kept; invariants a variant declares in C are judged on every
 * state and read TLBs and memory that walks and drains change, so a variant that declares one or more
 * is searched without deferral, as is a search under a preemption bound (whose skipped moves
 * would be missing from the footprints judged against). Tests: properties/deferral.test.ts
 * (every built-in variant of three scenarios, the litmus corpus). Which moves are left out can
 * depend on a state's sleep set at its first visit, so the states stored can depend on the
 * order of the search: `--workers` may store a few more or fewer than one thread.
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
import { absorber, dryWalkFootprint, probe } from './judge.ts';

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
  /** Walks and drains left out because no other move of their state conflicts with them (deferral). */
  readonly deferred: number;
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
  /** With `por`: leave out the walks and last drains no other move conflicts with (default on; see the header). */
  readonly defer?: boolean;
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
export interface Sleeper {
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
  /** Position in `order` of the first move that deferral may leave out; -1: none, or a revisit. */
  readonly opt: number;
  /** The children deferral took its kept moves to, by index into `moves`. */
  pre?: Map<number, Taken>;
}

/**
 * A move deferral may leave out: a speculative walk of a CPU that cannot evict (an eviction
 * move names a TLB or PSC slot by position, which a walk's fill would shift), or the drain of
 * the last store in a CPU's buffer to a word that is not a page-table entry (after it no drain
 * of that CPU is left, whose next commit would be another transition under the same name).
 */
export function deferrable(sim: Sim, m: Move): boolean {
  const c = moveCpu(m);
  switch (moveKind(m)) {
    case MoveKind.Walk:
      return sim.m.cpu(c).evictionsLeft <= 0;
    case MoveKind.Drain: {
      const sb = sim.m.cpu(c).sb;
      return sb.length === 1 && sb[0]!.loc >= 0 && !sim.m.isPageTable(sb[0]!.loc);
    }
    default:
      return false;
  }
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

/**
 * A deferrable move judged: taken on a copy of its state (`probe`, judge.ts), or, for a walk whose
 * footprint is known without taking it (judge.ts `dryWalkFootprint`), not taken (no `child`: it
 * violates nothing and enables nothing).
 */
export type Probe =
  | {
      readonly child: Sim;
      readonly fp: Footprint;
      readonly enables: boolean;
      /** The child's enabled moves. */
      readonly moves: readonly Move[];
    }
  | { readonly child?: undefined; readonly fp: Footprint; readonly enables: false };

/** A child deferral took a kept move to, with its enabled moves. */
export interface Taken {
  readonly sim: Sim;
  readonly moves: readonly Move[];
}

/**
 * Which of the deferrable moves `cands` deferral leaves out, given each one judged (`probes`) and
 * the footprints of every other move of the state (`others`): those independent of all of them
 * (but the program move that absorbs it, `absorbers`, see the header) and of every candidate
 * kept, that end no execution with a violation, and that enable no move the state does not
 * offer. One is kept if nothing else would be.
 */
export function movesToDefer(
  cands: readonly Move[],
  probes: readonly Probe[],
  others: readonly Sleeper[],
  absorbers: readonly (Move | undefined)[] = [],
): boolean[] {
  const out: boolean[] = [];
  for (let k = 0; k < cands.length; k++) {
    const p = probes[k]!;
    let keep = p.child?.violation !== undefined || p.enables;
    for (const u of others) {
      if (keep) break;
      if (independent(u.fp, p.fp)) continue;
      if (u.move === absorbers[k]) continue;
      keep = true;
    }
    out.push(!keep);
  }
  // The set explored must not be empty: with no other move, the first candidate stays.
  if (others.length === 0 && cands.length > 0 && out.every((x) => x)) out[0] = false;
  // A candidate kept keeps every candidate it conflicts with.
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = 0; k < cands.length; k++) {
      if (!out[k]) continue;
      for (let j = 0; j < cands.length; j++) {
        if (!out[j] && !independent(probes[j]!.fp, probes[k]!.fp)) {
          out[k] = false;
          changed = true;
          break;
        }
      }
    }
  }
  return out;
}

/**
 * Deferral at a state (first visit): judge the deferrable moves `cands` (indices into `moves`,
 * the state's enabled moves) against the footprints of every other move (`others`). Returns the
 * indices kept, each with the child its judgement took it to, and how many were left out.
 */
export function judgeDeferrable(
  sim: Sim,
  moves: readonly Move[],
  cands: readonly number[],
  others: readonly Sleeper[],
): { readonly kept: readonly number[]; readonly children: Map<number, Taken>; readonly deferred: number } {
  const absorbers: (Move | undefined)[] = [];
  const probes = cands.map((i): Probe => {
    const fp = dryWalkFootprint(sim, moves[i]!);
    // Only a walk that writes no memory is absorbed: the access's own walk then writes what it would.
    absorbers.push(fp ? absorber(sim, moves[i]!, fp) : undefined);
    return fp ? { fp, enables: false } : probe(sim, moves[i]!, moves);
  });
  const out = movesToDefer(cands.map((i) => moves[i]!), probes, others, absorbers);
  const kept: number[] = [];
  const children = new Map<number, Taken>();
  for (let k = 0; k < cands.length; k++) {
    if (out[k]) continue;
    kept.push(cands[k]!);
    // A walk judged without taking it is taken like every other move when its turn comes.
    const p = probes[k]!;
    if (p.child) children.set(cands[k]!, { sim: p.child, moves: p.moves });
  }
  return { kept, children, deferred: cands.length - kept.length };
}

/**
 * Whether deferral applies to a search of `model` (stateful.ts header): with sleep sets, without
 * a preemption bound (whose skipped moves would be missing from the footprints judged
 * against), and without invariants the variant declares in C, which are judged on every state
 * and read the TLBs and memory that walks and drains change (two moves left out at one state
 * would reach a state that is never judged).
 */
export const deferralApplies = (model: Model, por: boolean, defer: boolean | undefined): boolean =>
  por && (defer ?? true) && model.cfg.bounds.preemptions === undefined && (model.cfg.variant.invariants ?? []).length === 0;

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
  let deferred = 0;
  const deferOn = deferralApplies(model, por, opt.defer);
  let maxDepth = 0;
  const stack: Entry[] = [];
  const result = (extra: Partial<StatefulResult> & { complete: boolean }): StatefulResult => ({
    states: stored(),
    transitions,
    executions,
    sleepPruned,
    sleepBlocked,
    deferred,
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
   * Push state `sim` (hash in `h`, enabled moves `known` when already enumerated) reached with
   * sleep set `sleep`; returns a violation found at
   * a final state. Bitstate keeps no sleep sets: it marks the pair (state, sleep set), which a
   * stateless sleep-set search would explore the same way every time it met it.
   */
  const enter = (sim: Sim, sleep: readonly Sleeper[], preemptions: number, known?: readonly Move[]): Violation | undefined => {
    const moves = known ?? sim.enabledMoves();
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
    // Deferral (first visits only): the moves it may leave out go last, so that every other
    // move's footprint is known when they are judged.
    let optAt = -1;
    let ord = order;
    if (deferOn && woke === undefined) {
      const later: number[] = [];
      ord = [];
      for (const i of order) (deferrable(sim, moves[i]!) ? later : ord).push(i);
      if (later.length > 0) {
        optAt = ord.length;
        ord.push(...later);
      }
    }
    stack.push({ sim, moves: moves.slice(), order: ord, pos: 0, cur: -1, sleep, done: [], preemptions, opt: optAt });
    if (stack.length > maxDepth) maxDepth = stack.length;
    return undefined;
  };
  root.fingerprint(bound === undefined ? 0 : startPreemptions, h);
  const v0 = root.violation ?? enter(root, [], startPreemptions);
  if (v0) return result({ complete: false, violation: v0, tape: [], widths: [] });

  /** Deferral, at a first visit once every other move is explored (see the header). */
  const deferAt = (e: Entry): void => {
    const others: Sleeper[] = [...e.done, ...e.sleep];
    const order = e.order as number[];
    const j = judgeDeferrable(e.sim, e.moves, order.slice(e.pos), others);
    order.length = e.pos;
    order.push(...j.kept);
    e.pre = j.children;
    deferred += j.deferred;
  };

  const maxExec = opt.maxExecutions;
  const maxStates = opt.maxStates;
  while (stack.length > 0) {
    // The execution and state budgets are checked exactly (the others every 1024 transitions).
    if (maxExec !== undefined && executions >= maxExec) return result({ complete: false, reason: `execution budget of ${maxExec} ran out`, stop: 'executions' });
    if (maxStates !== undefined && stored() >= maxStates) return result({ complete: false, reason: `state budget of ${maxStates} ran out`, stop: 'states' });
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
    if (top.pos === top.opt) deferAt(top);
    if (top.pos >= top.order.length) continue;
    const i = top.order[top.pos++]!;
    top.cur = i;
    const mv = top.moves[i]!;
    const preemptions = top.preemptions + (i > 0 && top.moves.length > 1 ? 1 : 0);
    if (bound !== undefined && preemptions > bound) continue;
    // The last child may take over its parent's state: the parent is done after it.
    const pre = top.pre?.get(i);
    if (pre) top.pre!.delete(i);
    const child = pre?.sim ?? (top.pos === top.order.length ? top.sim : top.sim.cloneFor(mv, opt.steal ?? true, (c) => stillNeeds(top, c)));
    // A walk or a drain (the moves deferral takes ahead) never ends an execution.
    const alive = pre ? true : child.apply(mv, undefined);
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
    const v = enter(child, sleep, preemptions, pre?.moves);
    if (v) return result({ complete: false, violation: v, ...tapeOf() });
  }
  return result({ complete: true });
}
