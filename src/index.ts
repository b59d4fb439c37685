/**
 * The public API for variant files: `import { derive, getVariant, fx } from 'tlbcheck'`.
 */
import { UserError } from './errors.ts';
import { VARIANTS } from './kernel/index.ts';
import type { Variant } from './kernel/variant.ts';

export * as fx from './kernel/fx.ts';
export { derive } from './kernel/variant.ts';
export type { CoreRoutines, CpuStart, Expectation, Variant } from './kernel/variant.ts';
export type { K, Routine } from './kernel/fx.ts';
export { INIT_MM, NO_MM, TLBSTATE_LAZY, TLBSTATE_OK, LOADED_MM_SWITCHING } from './kernel/layout.ts';

/** A built-in variant by id, typed by its routine table. */
export function getVariant<R extends import('./kernel/variant.ts').CoreRoutines = import('./kernel/variant.ts').CoreRoutines>(id: string): Variant<R> {
  const v = VARIANTS.find((x) => x.id === id);
  if (!v) throw new UserError(`unknown variant '${id}'`);
  return v as unknown as Variant<R>;
}
