/**
 * The field checks of effect validation (validate.ts): each effect kind's row in the table
 * (effect-kinds.ts) checks its fields with these. They run only for an effect the fast path did
 * not pass, so they may allocate the message that says what is wrong.
 */

/** The sizes an effect is checked against. */
export interface EffectLimits {
  /** Words of simulated memory: page-table pages, then kernel variables. */
  readonly words: number;
  readonly pages: number;
  readonly cpus: number;
  readonly mms: number;
}

export const RMW_OPS: ReadonlySet<string> = new Set(['bts', 'btr', 'xadd', 'xchg', 'cmpxchg', 'or', 'and']);
export const IPI_VIAS: ReadonlySet<string> = new Set(['lock', 'mmio', 'wrmsr']);

export const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
/** A value that fits the machine's 32-bit memory word, signed or unsigned. */
export const isWord = (v: unknown): boolean => isInt(v) && v >= -0x80000000 && v <= 0xffffffff;
export const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : typeof v === 'function' ? 'a function' : String(v));

export type Fields = Record<string, unknown>;
// At module level, so that a check allocates no closures.
export const locOf = (x: Fields, lim: EffectLimits): string | undefined => (isInt(x['loc']) && x['loc'] >= 0 && x['loc'] < lim.words ? undefined : `location ${show(x['loc'])} is outside memory (0..${lim.words - 1})`);
export const word = (x: Fields, f: string): string | undefined => (isWord(x[f]) ? undefined : `${f} ${show(x[f])} is not a 32-bit integer`);
export const bool = (x: Fields, f: string): string | undefined => (typeof x[f] === 'boolean' ? undefined : `${f} ${show(x[f])} is not a boolean`);
export const str = (x: Fields, f: string): string | undefined => (typeof x[f] === 'string' ? undefined : `${f} ${show(x[f])} is not a string`);
export const range = (x: Fields, f: string, n: number, what: string): string | undefined => (isInt(x[f]) && x[f] >= 0 && x[f] < n ? undefined : `${what} ${show(x[f])} does not exist (0..${n - 1})`);
export const vaOf = (x: Fields): string | undefined => (isInt(x['va']) && x['va'] >= 0 ? undefined : `virtual address ${show(x['va'])} is not a non-negative integer`);
export const addr = (x: Fields, f: string): string | undefined => (typeof x[f] === 'number' && !Number.isNaN(x[f]) ? undefined : `${f} ${show(x[f])} is not a number`);
