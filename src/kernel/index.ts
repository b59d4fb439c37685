/** The built-in variants. */
import { linux412 } from './linux-4.12/variants.ts';
import { linux413, linux413Cr3BeforeCpumask, linux413FlushNoMb } from './linux-4.13/variants.ts';
import { pasidGpFixup, pasidIpiMb, pasidIpiProposal } from './pasid/variants.ts';
import { linux415Pti, linux415PtiKernelFlushOneUser, linux415PtiNoUserPcidFlush } from './linux-4.15-pti/variants.ts';
import { kaiserInvpcid, kaiserNoUserFlush, kaiserPercpuFlush } from './kaiser/variants.ts';
import type { Variant } from './variant.ts';

export const VARIANTS: readonly Variant[] = [linux412, linux413, linux413FlushNoMb, linux413Cr3BeforeCpumask, kaiserPercpuFlush, kaiserInvpcid, kaiserNoUserFlush, linux415Pti, linux415PtiKernelFlushOneUser, linux415PtiNoUserPcidFlush, pasidIpiProposal, pasidIpiMb, pasidGpFixup] as unknown as readonly Variant[];

export function findVariant(id: string): Variant | undefined {
  return VARIANTS.find((v) => v.id === id);
}

export { derive } from './variant.ts';
export type { Variant, Expectation, CoreRoutines } from './variant.ts';
