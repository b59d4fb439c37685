/**
 * Validation of every effect where it enters the machine. A routine is user code (a variant
 * file may override any of them), so what it yields is checked before the machine acts on it:
 * a known kind, locations inside the layout, values that fit a machine word, and CPU, mm and
 * page ids in range. A bad effect is a model error naming the routine and the step (the engine
 * adds those), never a silent `undefined` read from outside memory.
 *
 * Cost: one switch and a few comparisons per effect, next to a machine step that costs far more.
 */
import type { Effect } from './effects.ts';

/** The sizes an effect is checked against. */
export interface EffectLimits {
  /** Words of simulated memory: page-table pages, then kernel variables. */
  readonly words: number;
  readonly pages: number;
  readonly cpus: number;
  readonly mms: number;
}

const RMW_OPS: ReadonlySet<string> = new Set(['bts', 'btr', 'xadd', 'xchg', 'cmpxchg', 'or', 'and']);
const IPI_VIAS: ReadonlySet<string> = new Set(['lock', 'mmio', 'wrmsr']);

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
/** A value that fits the machine's 32-bit memory word, signed or unsigned. */
const isWord = (v: unknown): boolean => isInt(v) && v >= -0x80000000 && v <= 0xffffffff;
const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : typeof v === 'function' ? 'a function' : String(v));

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

type Fields = Record<string, unknown>;
// The field checks of describeProblem, at module level so that a call allocates no closures.
const locOf = (x: Fields, lim: EffectLimits): string | undefined => (isInt(x['loc']) && x['loc'] >= 0 && x['loc'] < lim.words ? undefined : `location ${show(x['loc'])} is outside memory (0..${lim.words - 1})`);
const word = (x: Fields, f: string): string | undefined => (isWord(x[f]) ? undefined : `${f} ${show(x[f])} is not a 32-bit integer`);
const bool = (x: Fields, f: string): string | undefined => (typeof x[f] === 'boolean' ? undefined : `${f} ${show(x[f])} is not a boolean`);
const str = (x: Fields, f: string): string | undefined => (typeof x[f] === 'string' ? undefined : `${f} ${show(x[f])} is not a string`);
const range = (x: Fields, f: string, n: number, what: string): string | undefined => (isInt(x[f]) && x[f] >= 0 && x[f] < n ? undefined : `${what} ${show(x[f])} does not exist (0..${n - 1})`);
const vaOf = (x: Fields): string | undefined => (isInt(x['va']) && x['va'] >= 0 ? undefined : `virtual address ${show(x['va'])} is not a non-negative integer`);
const addr = (x: Fields, f: string): string | undefined => (typeof x[f] === 'number' && !Number.isNaN(x[f]) ? undefined : `${f} ${show(x[f])} is not a number`);

function describeProblem(e: unknown, lim: EffectLimits): string | undefined {
  if (e === null || typeof e !== 'object') return `yielded ${show(e)}, not an effect (use the fx helpers: yield* fx.load(loc))`;
  const x = e as Fields;
  const k = x['k'] as Effect['k'];
  switch (k) {
    case 'load':
      return locOf(x, lim);
    case 'store':
      return locOf(x, lim) ?? word(x, 'val');
    case 'rmw':
      return locOf(x, lim) ?? (RMW_OPS.has(String(x['op'])) ? undefined : `unknown read-modify-write ${show(x['op'])}`) ?? word(x, 'a') ?? (x['b'] === undefined ? undefined : word(x, 'b'));
    case 'wait':
      return locOf(x, lim) ?? (typeof x['until'] === 'function' ? undefined : 'until is not a function') ?? str(x, 'what');
    case 'cr3':
      return range(x, 'root', lim.pages, 'page') ?? (isInt(x['pcid']) && x['pcid'] >= 0 && x['pcid'] < 4096 ? undefined : `pcid ${show(x['pcid'])} is not 0..4095`) ?? bool(x, 'noflush');
    case 'invlpg':
      return vaOf(x);
    case 'invpcid':
      return ([0, 1, 2, 3].includes(x['type'] as number) ? undefined : `INVPCID type ${show(x['type'])} is not 0..3`) ?? (isInt(x['pcid']) && x['pcid'] >= 0 && x['pcid'] < 4096 ? undefined : `pcid ${show(x['pcid'])} is not 0..4095`) ?? vaOf(x);
    case 'invlpgb': {
      const inv = x['inv'] as Record<string, unknown> | null | undefined;
      if (!inv || typeof inv !== 'object') return 'an INVLPGB without its invalidation';
      const opt = (f: string, ok: (v: number) => boolean, what: string): string | undefined => (inv[f] === null || (isInt(inv[f]) && ok(inv[f])) ? undefined : `INVLPGB ${f} ${show(inv[f])} is not null or ${what}`);
      return (
        opt('va', (v) => v >= 0, 'a non-negative address') ??
        (isInt(inv['nr']) && inv['nr'] >= 1 && inv['nr'] <= 65536 ? undefined : `INVLPGB nr ${show(inv['nr'])} is not 1..65536`) ??
        opt('pcid', (v) => v >= 0 && v < 4096, '0..4095') ??
        opt('asid', (v) => v >= 0 && v < 65536, '0..65535') ??
        (typeof inv['global'] === 'boolean' && typeof inv['finalOnly'] === 'boolean' ? undefined : 'INVLPGB global/finalOnly are not booleans')
      );
    }
    case 'tlbsync':
      return undefined;
    case 'pge':
    case 'irq':
      return bool(x, 'on');
    case 'wrmsr-pasid':
      return word(x, 'val');
    case 'ipi': {
      const call = x['call'] as Record<string, unknown> | null | undefined;
      if (!call || typeof call !== 'object') return 'an IPI without a cross-call';
      const c = call as Record<string, unknown>;
      return range(x, 'target', lim.cpus, 'cpu') ?? (IPI_VIAS.has(String(x['via'])) ? undefined : `IPI send ${show(x['via'])} is not lock, mmio or wrmsr`) ?? (isInt(c['sender']) && c['sender'] >= 0 && c['sender'] < lim.cpus ? undefined : `sender cpu ${show(c['sender'])} does not exist`) ?? (typeof c['func'] === 'string' && typeof c['key'] === 'string' ? undefined : 'cross-call func or key is not a string') ?? (isInt(c['csd']) && c['csd'] >= 0 && c['csd'] < lim.words ? undefined : `csd location ${show(c['csd'])} is outside memory`);
    }
    case 'access':
      return vaOf(x) ?? bool(x, 'write') ?? (x['owner'] === undefined ? undefined : range(x, 'owner', lim.mms, 'mm'));
    case 'vload':
      return vaOf(x);
    case 'vstore':
      return vaOf(x) ?? word(x, 'val');
    case 'cr4':
      return bool(x, 'pge') ?? bool(x, 'pcide');
    case 'free-page':
      return range(x, 'pfn', lim.pages, 'page');
    case 'reuse-page':
      return range(x, 'pfn', lim.pages, 'page') ?? word(x, 'fill');
    case 'alloc-table':
      return (
        range(x, 'pfn', lim.pages, 'page') ??
        range(x, 'owner', lim.mms, 'mm') ??
        (x['level'] === 'upper' || x['level'] === 'leaf' ? undefined : `table level ${show(x['level'])} is not upper or leaf`) ??
        (Array.isArray(x['words']) ? undefined : 'table words are not a list')
      );
    case 'read-fixed':
      return isInt(x['loc']) && x['loc'] >= 0 && x['loc'] < lim.words ? undefined : `location ${show(x['loc'])} is outside memory`;
    case 'mm-life':
      return range(x, 'mm', lim.mms, 'mm') ?? bool(x, 'alive');
    case 'enter':
      return str(x, 'fn');
    case 'assert':
      return bool(x, 'ok') ?? str(x, 'what') ?? (x['kind'] === 'WARN' || x['kind'] === 'BUG' ? undefined : `assertion kind ${show(x['kind'])} is not WARN or BUG`);
    case 'flush-begin':
      return range(x, 'mm', lim.mms, 'mm') ?? addr(x, 'start') ?? addr(x, 'end') ?? bool(x, 'kernel');
    case 'flush-end':
    case 'pasid-update-end':
      return isInt(x['token']) && x['token'] >= 0 ? undefined : `token ${show(x['token'])} is not one a begin effect returned`;
    case 'pasid-update-begin':
      return range(x, 'mm', lim.mms, 'mm') ?? word(x, 'val');
    case 'user-running':
      return range(x, 'mm', lim.mms, 'mm') ?? bool(x, 'on');
    case 'preempt':
      return x['delta'] === 1 || x['delta'] === -1 ? undefined : `preempt delta ${show(x['delta'])} is not 1 or -1`;
    case 'sub':
      return str(x, 'fn') ?? (typeof x['make'] === 'function' ? undefined : 'make is not a function');
    case 'mfence':
    case 'iret':
    case 'leave':
    case 'read-cr3':
    case 'irqs-disabled':
    case 'read-pasid-msr':
      return undefined;
    default: {
      // Every kind of the Effect union has a case above: adding one without its check fails to compile.
      const unknownKind: never = k;
      return `unknown effect kind ${show(unknownKind)}`;
    }
  }
}
