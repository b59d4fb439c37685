/**
 * One stateful DFS split over worker threads (`check --workers N`), sharing one visited table
 * (shared-visited.ts, a SharedArrayBuffer). The coordinator explores the first levels breadth
 * first until it has a frontier of several states per worker, claiming every state it expands
 * in the shared table; the workers (the coordinating thread itself and N-1 threads it starts)
 * then take frontier states one at a time (an atomic counter)
 * and run the stateful DFS (stateful.ts) from each, claiming states in the same table, so a
 * state is explored by one thread. The first violation stops every thread; its tape is the
 * frontier state's path followed by the worker's tape.
 *
 * Soundness is the sequential search's: a frontier state is explored with an empty sleep set
 * (everything from it), and the shared table keeps, per state, the sleep set it was explored
 * with, so a revisit explores the moves that woke up, as in one thread (shared-visited.ts). The
 * verdict is the one worker's (tested on holds and violated rows). On holds rows the states
 * stored are the one thread's too (tested, with a table that grows many times under the
 * threads); the transitions differ a little, since the frontier levels are expanded without
 * sleep sets and the split changes which thread meets a state first. The table starts small
 * and grows while the threads use it (shared-visited.ts), up to the memory budget.
 *
 * Worker threads are started from `workerUrl` (a CLI module that rebuilds the model from
 * `recipe` and calls `runShare`), so this layer never loads a variant itself.
 */
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.ts';
import { collisionProbability } from '../machine/hash.ts';
import { HEARTBEAT } from './heartbeat.ts';
import type { Violation } from '../invariants/types.ts';
import { type Model, Sim } from './sim.ts';
import type { StopKind } from './budget.ts';
import { type Sleeper, type Taken, deferrable, deferralApplies, judgeDeferrable, statefulDfs } from './stateful.ts';
import { type SharedVisitedData, SharedVisited, makeSharedVisited } from './shared-visited.ts';

/** A frontier state: the choice taken at every step from the initial state, and its preemptions. */
export interface FrontierNode {
  readonly path: readonly number[];
  readonly preemptions: number;
}

export interface ShareData {
  readonly recipe: unknown;
  readonly table: SharedVisitedData;
  readonly frontier: readonly FrontierNode[];
  /** [0] next frontier index, [1] stop flag (1 = a violation was found, 2 = a budget ran out). */
  readonly control: SharedArrayBuffer;
  readonly beat: SharedArrayBuffer | undefined;
  readonly limits: ShareLimits;
}

export interface ShareLimits {
  readonly timeMs?: number;
  readonly maxStates?: number;
  readonly maxMemoryMb?: number;
  readonly maxExecutions?: number;
  readonly por?: boolean;
  readonly defer?: boolean;
}

export type ShareReply =
  | {
      readonly type: 'done';
      readonly transitions: number;
      readonly executions: number;
      readonly sleepPruned: number;
      readonly sleepBlocked: number;
      readonly deferred: number;
      /** Frontier states this worker took. */
      readonly claimed: number;
      readonly violation?: { readonly violation: Violation; readonly tape: readonly number[]; readonly widths: readonly number[] };
      readonly stopped?: { readonly kind: StopKind; readonly reason: string };
    }
  | { readonly type: 'error'; readonly message: string; readonly user: boolean };

export interface ParallelResult {
  readonly complete: boolean;
  readonly violation?: Violation;
  readonly tape?: readonly number[];
  readonly widths?: readonly number[];
  readonly reason?: string;
  readonly stop?: StopKind;
  readonly states: number;
  readonly transitions: number;
  readonly executions: number;
  readonly sleepPruned: number;
  readonly sleepBlocked: number;
  readonly deferred: number;
  readonly collisionProbability: number;
  readonly bytes: number;
  /** Segments of the shared table at the end (it doubles its capacity with each). */
  readonly segments: number;
}

/** The state at the end of `path`, with the tape and widths of its branch points. */
export function walkPath(model: Model, path: readonly number[]): { sim: Sim; tape: number[]; widths: number[] } {
  const sim = Sim.start(model, false);
  const tape: number[] = [];
  const widths: number[] = [];
  for (const c of path) {
    const moves = sim.enabledMoves();
    if (moves.length > 1) {
      tape.push(c);
      widths.push(moves.length);
    }
    sim.apply(moves[c]!, undefined);
  }
  return { sim, tape, widths };
}

/** A worker's part: frontier states until none is left, a violation, or a budget. */
export function runShare(model: Model, data: ShareData): ShareReply {
  const table = new SharedVisited(data.table);
  const control = new Int32Array(data.control);
  const counts = { transitions: 0, executions: 0, sleepPruned: 0, sleepBlocked: 0, deferred: 0, claimed: 0 };
  const stop = (): { kind: StopKind; reason: string } | undefined => {
    const s = Atomics.load(control, 1);
    if (s === 1) return { kind: 'interrupted', reason: 'another worker found a violation' };
    if (s === 2) return { kind: 'interrupted', reason: 'another worker ran out of a budget' };
    if (table.full) return { kind: 'memory', reason: `the shared visited table (${table.bytes >> 20} MiB) is full: the memory budget refused it more` };
    return undefined;
  };
  const t0 = Date.now();
  for (;;) {
    if (stop()) return { type: 'done', ...counts };
    const i = Atomics.add(control, 0, 1);
    const node = data.frontier[i];
    if (!node) return { type: 'done', ...counts };
    counts.claimed++;
    const start = walkPath(model, node.path);
    const l = data.limits;
    const left = l.timeMs === undefined ? undefined : Math.max(1, l.timeMs - (Date.now() - t0));
    const r = statefulDfs(model, {
      start: { sim: start.sim, preemptions: node.preemptions },
      store: { kind: 'shared', table },
      stop,
      ...(left === undefined ? {} : { timeMs: left }),
      ...(l.maxStates === undefined ? {} : { maxStates: l.maxStates }),
      ...(l.maxMemoryMb === undefined ? {} : { maxMemoryMb: l.maxMemoryMb }),
      ...(l.por === undefined ? {} : { por: l.por }),
      ...(l.defer === undefined ? {} : { defer: l.defer }),
    });
    counts.transitions += r.transitions;
    counts.executions += r.executions;
    counts.sleepPruned += r.sleepPruned;
    counts.sleepBlocked += r.sleepBlocked;
    counts.deferred += r.deferred;
    if (r.violation) {
      Atomics.store(control, 1, 1);
      return { type: 'done', ...counts, violation: { violation: r.violation, tape: [...start.tape, ...(r.tape ?? [])], widths: [...start.widths, ...(r.widths ?? [])] } };
    }
    if (!r.complete) {
      // Another worker's stop is not this worker's finding; a budget of its own is.
      const mine = r.stop !== 'interrupted' || stop() === undefined;
      if (mine) Atomics.compareExchange(control, 1, 0, 2);
      return { type: 'done', ...counts, ...(mine ? { stopped: { kind: r.stop ?? 'interrupted', reason: r.reason ?? '?' } } : {}) };
    }
  }
}

/** Explore the first levels breadth first until there are `want` frontier states (or none). */
export function frontierOf(model: Model, table: SharedVisited, want: number, defer = deferralApplies(model, true, undefined)): { frontier: FrontierNode[]; found?: { violation: Violation; path: number[] }; transitions: number; executions: number; deferred: number } {
  const bound = model.cfg.bounds.preemptions;
  const h = new Uint32Array(2);
  const root = Sim.start(model, false);
  // Deferral as the workers' searches apply it (stateful.ts), so that the threads together
  // explore the states one thread would.
  root.recordFootprints = defer;
  let level: { sim: Sim; path: number[]; preemptions: number }[] = [{ sim: root, path: [], preemptions: 0 }];
  let transitions = 0;
  let executions = 0;
  let deferred = 0;
  for (let depth = 0; depth < 64 && level.length > 0 && level.length < want; depth++) {
    const next: typeof level = [];
    const seen = new Set<string>();
    for (const node of level) {
      node.sim.fingerprint(bound === undefined ? 0 : node.preemptions, h);
      if (!table.testAndSet(h)) continue;
      const moves = node.sim.enabledMoves().slice();
      if (moves.length === 0) {
        node.sim.finish();
        executions++;
        if (node.sim.violation) return { frontier: [], found: { violation: node.sim.violation, path: node.path }, transitions, executions, deferred };
        continue;
      }
      // Deferral as the workers' searches apply it: every other move first, so that the
      // deferrable ones are judged against their footprints.
      const cands: number[] = [];
      const order: number[] = [];
      for (let i = 0; i < moves.length; i++) (defer && deferrable(node.sim, moves[i]!) ? cands : order).push(i);
      const others: Sleeper[] = [];
      let children: Map<number, Taken> | undefined;
      let judged = cands.length === 0;
      for (let k = 0; ; k++) {
        if (k === order.length) {
          if (judged) break;
          judged = true;
          const j = judgeDeferrable(node.sim, moves, cands, others);
          order.push(...j.kept);
          children = j.children;
          deferred += j.deferred;
          if (k === order.length) break;
        }
        const i = order[k]!;
        const preemptions = node.preemptions + (i > 0 ? 1 : 0);
        if (bound !== undefined && preemptions > bound) continue;
        const pre = children?.get(i);
        const child = pre?.sim ?? node.sim.cloneFor(moves[i]!);
        const alive = pre ? true : child.apply(moves[i]!, undefined);
        transitions++;
        if (defer && child.footprint) others.push({ move: moves[i]!, fp: child.footprint });
        const path = [...node.path, i];
        if (child.violation) return { frontier: [], found: { violation: child.violation, path }, transitions, executions, deferred };
        if (!alive) {
          executions++;
          continue;
        }
        child.fingerprint(bound === undefined ? 0 : preemptions, h);
        const key = `${h[0]},${h[1]}`;
        if (seen.has(key)) continue;
        seen.add(key);
        next.push({ sim: child, path, preemptions });
      }
    }
    level = next;
  }
  return { frontier: level.map((n) => ({ path: n.path, preemptions: n.preemptions })), transitions, executions, deferred };
}

/**
 * `firstSlots`: the shared table's first segment (a power of two; tests start it tiny to make
 * it grow several times).
 */
export async function parallelDfs(model: Model, workers: number, workerUrl: URL, recipe: unknown, limits: ShareLimits, execArgv: string[], firstSlots?: number): Promise<ParallelResult> {
  // The table starts small (a small search stays in a few dense MiB) and grows while the
  // threads use it, until the memory budget refuses (shared-visited.ts).
  const data = makeSharedVisited((limits.maxMemoryMb ?? 1024) * 1048576, firstSlots);
  const table = new SharedVisited(data);
  const f = frontierOf(model, table, 8 * workers, deferralApplies(model, limits.por ?? model.cfg.bounds.preemptions === undefined, limits.defer));
  const base = { transitions: f.transitions, executions: f.executions, sleepPruned: 0, sleepBlocked: 0, deferred: f.deferred };
  const finish = (extra: Partial<ParallelResult> & { complete: boolean }, c = base): ParallelResult => ({
    ...c,
    states: table.size,
    collisionProbability: collisionProbability(table.size, 64),
    bytes: table.bytes,
    segments: table.segments,
    ...extra,
  });
  if (f.found) {
    const w = walkPath(model, f.found.path);
    return finish({ complete: false, violation: f.found.violation, tape: w.tape, widths: w.widths });
  }
  if (f.frontier.length === 0) return finish({ complete: true });
  const control = new SharedArrayBuffer(8);
  const share: ShareData = { recipe, table: data, frontier: f.frontier, control, beat: HEARTBEAT.on && HEARTBEAT.cells.buffer instanceof SharedArrayBuffer ? HEARTBEAT.cells.buffer : undefined, limits };
  // This thread is one of the workers: it has the model already, so it starts at once and the
  // search needs one thread start fewer (a thread loads the sources and builds its variant,
  // about a second, which dominated short searches).
  const spawned: Worker[] = [];
  const others = Array.from({ length: Math.min(workers, f.frontier.length) - 1 }, () => {
    const w = new Worker(workerUrl, { workerData: share, execArgv, stdout: false, stderr: false });
    spawned.push(w);
    return new Promise<ShareReply>((resolve) => {
      let done = false;
      w.once('message', (m: ShareReply) => {
        done = true;
        resolve(m);
        void w.terminate();
      });
      w.once('error', (e) => resolve({ type: 'error', message: e.message, user: false }));
      w.once('exit', (code) => {
        if (!done) resolve({ type: 'error', message: `a search worker exited with code ${code}`, user: false });
      });
    });
  });
  let mine: ShareReply;
  try {
    mine = runShare(model, share);
  } catch (e) {
    // A routine error here is the search's error: stop the others and report it.
    Atomics.store(new Int32Array(control), 1, 2);
    await Promise.all(spawned.map((w) => w.terminate()));
    throw e;
  }
  // Every frontier state was this thread's: a worker still starting has nothing to do.
  const alone = mine.type === 'done' && mine.claimed === f.frontier.length;
  if (alone) await Promise.all(spawned.map((w) => w.terminate()));
  const replies = [mine, ...(alone ? [] : await Promise.all(others))];
  const c = { ...base };
  let found: ShareReply & { type: 'done' } | undefined;
  let stopped: { kind: StopKind; reason: string } | undefined;
  for (const r of replies) {
    if (r.type === 'error') throw r.user ? new UserError(r.message) : new Error(r.message);
    c.transitions += r.transitions;
    c.executions += r.executions;
    c.sleepPruned += r.sleepPruned;
    c.sleepBlocked += r.sleepBlocked;
    c.deferred += r.deferred;
    if (r.violation && !found) found = r;
    if (r.stopped && !stopped) stopped = r.stopped;
  }
  if (found?.violation) return finish({ complete: false, violation: found.violation.violation, tape: found.violation.tape, widths: found.violation.widths }, c);
  if (stopped) return finish({ complete: false, reason: stopped.reason, stop: stopped.kind }, c);
  return finish({ complete: true }, c);
}
