/**
 * The built-in variants: the kernel generations and their bug and fix variants, all written
 * in C under src/kernel/c/ (src/kc/builtins.ts lists them). They are parsed and compiled once,
 * when this module is first imported.
 */
import { allBuiltins } from '../kc/builtins.ts';
import type { Variant } from './variant.ts';

export const VARIANTS: readonly Variant[] = await allBuiltins();

export function findVariant(id: string): Variant | undefined {
  return VARIANTS.find((v) => v.id === id);
}

export { derive } from './variant.ts';
export type { Variant, Expectation, CoreRoutines } from './variant.ts';
