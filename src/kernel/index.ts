/** The built-in variants. */
import { linux412 } from './linux-4.12/variants.ts';
import { linux413, linux413Cr3BeforeCpumask, linux413FlushNoMb } from './linux-4.13/variants.ts';
import { linux414, linux414NoflushStaleGen, linux414PartialOnSkip, linux414ReuseNoFlush } from './linux-4.14/variants.ts';
import { linux420, linux420LazySkipFreed, linux420WasLazyNoMb } from './linux-4.20/variants.ts';
import { linux617SwitchNoMb, linux618, linux618LazySkipFreed, linux618Trim } from './linux-6.x/variants.ts';
import { pasidGpFixup, pasidIpiMb, pasidIpiProposal } from './pasid/variants.ts';
import { linux415Pti, linux415PtiKernelFlushOneUser, linux415PtiNoUserPcidFlush } from './linux-4.15-pti/variants.ts';
import { kaiserInvpcid, kaiserNoUserFlush, kaiserPercpuFlush } from './kaiser/variants.ts';
import type { Variant } from './variant.ts';

export const VARIANTS: readonly Variant[] = [
  linux412,
  linux413,
  linux413FlushNoMb,
  linux413Cr3BeforeCpumask,
  linux414,
  linux414ReuseNoFlush,
  linux414NoflushStaleGen,
  linux414PartialOnSkip,
  linux420,
  linux420LazySkipFreed,
  linux420WasLazyNoMb,
  linux618,
  linux617SwitchNoMb,
  linux618LazySkipFreed,
  linux618Trim,
  kaiserPercpuFlush,
  kaiserInvpcid,
  kaiserNoUserFlush,
  linux415Pti,
  linux415PtiKernelFlushOneUser,
  linux415PtiNoUserPcidFlush,
  pasidIpiProposal,
  pasidIpiMb,
  pasidGpFixup,
] as unknown as readonly Variant[];

export function findVariant(id: string): Variant | undefined {
  return VARIANTS.find((v) => v.id === id);
}

export { derive } from './variant.ts';
export type { Variant, Expectation, CoreRoutines } from './variant.ts';
