/**
 * Linux 4.15 PTI: the PCID numbering and the per-CPU ASID slots that the boot state and the
 * return to user (entry.ts, assembly in the kernel) need. The kernel code itself is C:
 * src/kernel/c/linux-4.15-pti/tlb.c.
 *
 * Simplification: `TLB_NR_DYN_ASIDS` is 3, not 6 (the per-CPU layout has three slots); the
 * scenarios use at most three mms per CPU, so no slot is evicted that the kernel would keep.
 */
import type { PcpuField } from '../layout.ts';

/** `X86_CR3_PTI_SWITCH_BIT` (4.15 name): the user PCID is the kernel PCID with bit 11 set. */
export const PTI_USER_PCID_BIT = 11;

const CTX_ID: readonly PcpuField[] = ['ctx_id0', 'ctx_id1', 'ctx_id2'];
const CTX_GEN: readonly PcpuField[] = ['ctx_gen0', 'ctx_gen1', 'ctx_gen2'];
export const ctxIdField = (asid: number): PcpuField => CTX_ID[asid]!;
export const ctxGenField = (asid: number): PcpuField => CTX_GEN[asid]!;
