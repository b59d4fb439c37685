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
export type { R412 } from './kernel/linux-4.12/tlb.ts';
export type { R413, FlushInfo } from './kernel/linux-4.13/tlb.ts';
export * as linux413 from './kernel/linux-4.13/tlb.ts';
export type { R414, FlushInfo as FlushInfo414 } from './kernel/linux-4.14/tlb.ts';
export * as linux414 from './kernel/linux-4.14/tlb.ts';
export * as linux420 from './kernel/linux-4.20/tlb.ts';
export type { R6, FlushInfo6 } from './kernel/linux-6.x/tlb.ts';
export * as linux6 from './kernel/linux-6.x/tlb.ts';

/** A built-in variant by id, typed by its routine table. */
export function getVariant<R extends import('./kernel/variant.ts').CoreRoutines = import('./kernel/variant.ts').CoreRoutines>(id: string): Variant<R> {
  const v = VARIANTS.find((x) => x.id === id);
  if (!v) throw new UserError(`unknown variant '${id}'`);
  return v as unknown as Variant<R>;
}
