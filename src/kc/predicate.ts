/**
 * A declared invariant's C predicate (`invariant=name:function` in a variant's header), run
 * synchronously between two steps: it may only read. Its loads are answered from memory as all
 * CPUs agree on it (committed values, not a store buffer), and the `tlbcheck_*` accessors of
 * env-table.ts answer from the machine and the ghost through the current view. Any other
 * effect (a store, a barrier, an IPI) is a model error naming the predicate.
 */
import { ModelError } from '../errors.ts';
import type { K } from '../kernel/fx.ts';
import type { CoreRoutines, InvariantView, PredicateResult } from '../kernel/variant.ts';
import type { Effect } from '../machine/effects.ts';
import { truthy } from './ir.ts';
import { type CProgram, runC } from './interp.ts';

/** The view of the predicate now running (set only while one runs). */
let current: { view: InvariantView; reads: { loc: number; val: number; what?: string }[] } | undefined;

/** For the env accessors: the view, or a model error outside an invariant. */
export function invariantView(what: string): { view: InvariantView; note(what: string, val: number): void } {
  const c = current;
  if (!c) throw new ModelError(`${what} may only be called from a declared invariant (invariant=name:function)`);
  return { view: c.view, note: (w, val) => void c.reads.push({ loc: -1, val, what: w }) };
}

export function evalPredicate(prog: CProgram, k: K<CoreRoutines>, fn: string, view: InvariantView): PredicateResult {
  const reads: { loc: number; val: number; what?: string }[] = [];
  const outer = current;
  current = { view, reads };
  try {
    const g = runC(prog, k, fn, []);
    let r = g.next(undefined);
    while (!r.done) {
      const e = r.value as Effect;
      let answer: unknown;
      switch (e.k) {
        case 'load': {
          const val = view.read(e.loc);
          reads.push({ loc: e.loc, val });
          answer = val;
          break;
        }
        case 'enter':
        case 'leave':
          answer = undefined;
          break;
        default:
          throw new ModelError(`invariant predicate ${fn}() may only read, but it made a '${e.k}' effect`);
      }
      r = g.next(answer);
    }
    return { value: truthy(r.value), reads };
  } finally {
    current = outer;
  }
}
