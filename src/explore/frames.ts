/**
 * A CPU's routine frames: each runs one generator (a program part, an interrupt handler, or a
 * `sub` call) and records what identifies it for fingerprints. A C routine (kc/interp.ts
 * `CRun`) is forked and keyed as data; any other generator records every value fed to it, so a
 * clone can rebuild it by replaying them (copy on advance).
 */
import type { Effect } from '../machine/effects.ts';
import { Hasher } from '../machine/hash.ts';
import type { Routine } from '../kernel/fx.ts';
import { isCRun } from '../kc/interp.ts';

export { isCRun };

export interface Frame {
  /** Creates a fresh generator for this frame. */
  readonly make: () => Routine<unknown>;
  /**
   * Identity for fingerprints: the program (`prog{c}`, or `prog{c}#{i}` for part i of a
   * segmented one), an interrupt handler and the calls it runs, or a `sub` call (`sub:{fn}`).
   */
  readonly id: string;
  /** Hash of `id`, computed once (fingerprints take it at every state). */
  readonly idKey: number;
  /** Live generator, positioned after the first `n` inputs; null until rebuilt (in a clone). */
  gen: Routine<unknown> | null;
  /**
   * Every value fed to `gen.next` after the first call: the first `n` entries of this array,
   * which a clone shares with its original until one of them appends (copy on write).
   */
  inputs: unknown[];
  n: number;
  readonly inputHash: Hasher;
  pending: Effect | null;
  /** The kernel functions the frame is in, innermost first (shared by clones). */
  fns: FnStack | null;
  readonly handler: boolean;
  /** Index of the part of a program this frame runs (-1 for interrupt handlers and calls). */
  readonly part: number;
  /** A `sub` call: when it returns, the frame below takes its return value. */
  readonly returns: boolean;
}

export function inputCode(h: Hasher, v: unknown): void {
  if (v === undefined) h.add(0x7f000001);
  else if (typeof v === 'number') h.add(v);
  else if (typeof v === 'boolean') h.add(v ? 0x7f000003 : 0x7f000002);
  else if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) h.add(typeof x === 'number' ? x : x ? 1 : 0);
    h.add(0x7f000004);
  } else throw new Error(`[tlbcheck bug] unhashable routine input ${String(v)}`);
}

export interface FnStack {
  readonly name: string;
  readonly up: FnStack | null;
}

export function stringKey(s: string): number {
  const h = new Hasher();
  h.addString(s);
  return h.key();
}

/** A fresh frame running `make()`, with no recorded inputs yet. */
export function newFrame(make: () => Routine<unknown>, id: string, fns: FnStack | null, handler: boolean, part: number, returns: boolean): Frame {
  return { make, id, idKey: stringKey(id), gen: make(), inputs: [], n: 0, inputHash: new Hasher(), pending: null, fns, handler, part, returns };
}

export function cloneFrame(f: Frame): Frame {
  return {
    make: f.make,
    id: f.id,
    idKey: f.idKey,
    // A running C routine is copied as data; any other generator is rebuilt by replay.
    gen: isCRun(f.gen) ? (f.gen.fork() as unknown as Routine<unknown>) : null,
    inputs: f.inputs,
    n: f.n,
    inputHash: f.inputHash.clone(),
    pending: f.pending,
    fns: f.fns,
    handler: f.handler,
    part: f.part,
    returns: f.returns,
  };
}

/** Feed `input` to the frame's generator, rebuilding it first if this frame is a clone. */
export function feed(f: Frame, input: unknown): IteratorResult<Effect, unknown> {
  if (!f.gen) {
    const g = f.make();
    g.next(undefined);
    for (let i = 0; i < f.n; i++) g.next(f.inputs[i]);
    f.gen = g;
  }
  if (!isCRun(f.gen)) {
    // Only generators rebuilt by replay need their inputs (a C routine is forked instead).
    if (f.inputs.length !== f.n) f.inputs = f.inputs.slice(0, f.n);
    f.inputs.push(input);
  }
  f.n++;
  inputCode(f.inputHash, input);
  return f.gen.next(input);
}
