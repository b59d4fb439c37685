/**
 * Validation of every effect where it enters the machine. A routine is user code (a variant
 * file may override any of them), so what it yields is checked before the machine acts on it:
 * a known kind, locations inside the layout, values that fit a machine word, and CPU, mm and
 * page ids in range. A bad effect is a model error naming the routine and the step (the engine
 * adds those), never a silent `undefined` read from outside memory. What each kind's fields
 * must be is that kind's row in the effect-kind table (effect-kinds.ts `check`).
 *
 * Cost: one switch and a few comparisons per effect, next to a machine step that costs far more.
 */
import type { Effect, EffectKind } from './effects.ts';
import { EFFECT_KINDS } from './effect-kinds.ts';
import { type EffectLimits, type Fields, isWord, show } from './effect-fields.ts';

export type { EffectLimits } from './effect-fields.ts';

/**
 * Why effect `e` is malformed, or undefined when it is fine. The common kinds take a fast path
 * that allocates nothing (this runs for every effect); only a failing or rare effect gets the
 * full check that says what is wrong.
 */
export function effectProblem(e: unknown, lim: EffectLimits): string | undefined {
  return quickOk(e as Effect, lim) ? undefined : describeProblem(e, lim);
}

const inMem = (loc: unknown, lim: EffectLimits): boolean => typeof loc === 'number' && loc >= 0 && loc < lim.words && (loc | 0) === loc;

function quickOk(e: Effect, lim: EffectLimits): boolean {
  if (e === null || typeof e !== 'object') return false;
  switch (e.k) {
    case 'load':
      return inMem(e.loc, lim);
    case 'store':
      return inMem(e.loc, lim) && isWord(e.val);
    case 'enter':
      return typeof e.fn === 'string';
    case 'leave':
    case 'mfence':
    case 'iret':
    case 'read-cr3':
    case 'irqs-disabled':
    case 'read-pasid-msr':
      return true;
    case 'irq':
      return typeof e.on === 'boolean';
    default:
      return false;
  }
}

function describeProblem(e: unknown, lim: EffectLimits): string | undefined {
  if (e === null || typeof e !== 'object') return `yielded ${show(e)}, not an effect (use the fx helpers: yield* fx.load(loc))`;
  const x = e as Fields;
  const k = x['k'];
  // Each kind's row checks its own fields (effect-kinds.ts).
  const row = typeof k === 'string' && Object.hasOwn(EFFECT_KINDS, k) ? EFFECT_KINDS[k as EffectKind] : undefined;
  return row ? row.check(x, lim) : `unknown effect kind ${show(k)}`;
}
