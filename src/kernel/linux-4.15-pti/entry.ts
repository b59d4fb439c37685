/**
 * Linux 4.15 PTI return to user and kernel entry: `SWITCH_TO_USER_CR3_STACK` /
 * `SWITCH_TO_KERNEL_CR3` (arch/x86/entry/calling.h @ v4.15, notes 2.3), re-expressed.
 *
 * Simplifications, each safe:
 * - The exit runs with IRQs off up to the user access, and the next kernel entry switches
 *   back to the kernel CR3 before IRQs are on again. An IPI that would arrive in user mode is
 *   taken here after the access; the same IPI taken before the exit is another execution
 *   the search explores, and an IPI between the two points changes nothing the user access
 *   can see that the later delivery does not (the flush is judged only once it returns).
 * - The user pgd is found from the kernel one (the asm flips bit 12 of CR3): the mm whose
 *   `pgd` is in CR3 gives its `userPgd`, or the same tables when the scenario built none.
 */
import type { AccessResult } from '../../machine/effects.ts';
import type { Pfn } from '../../machine/types.ts';
import { type K, type Routine, access, bit, call, irqDisable, irqEnable, load, readCr3, store, writeCr3 } from '../fx.ts';
import type { Layout } from '../layout.ts';
import type { CoreRoutines } from '../variant.ts';
import { PTI_USER_PCID_BIT } from './pcid.ts';

const KPCID_MASK = (1 << PTI_USER_PCID_BIT) - 1;

export const userRootOf = (L: Layout, root: Pfn): Pfn => L.mms.find((m) => m.pgd === root)?.userPgd ?? root;
export const kernelRootOf = (L: Layout, root: Pfn): Pfn => L.mms.find((m) => m.userPgd === root)?.pgd ?? root;

/**
 * `SWITCH_TO_USER_CR3_NOSTACK` (4.15).
 *
 * Ordering:
 * 1. Test and clear this PCID's bit in `user_pcid_flush_mask` (BT; JNC; BTR, plain per-CPU
 *    accesses with IRQs off), and load the user CR3 without NOFLUSH when it was set: the
 *    deferred flush requested by invalidate_user_asid happens before any user access.
 *    Pairs with asid.ts load_new_mm_cr3 (2) and tlbflush.ts __flush_tlb_one_user.
 */
export function* switch_to_user_cr3(k: K<CoreRoutines>): Routine {
  const cr3 = yield* readCr3();
  const uroot = userRootOf(k.L, cr3.root);
  if (!k.features.pcid) {
    yield* writeCr3(uroot, 0, false, 'SWITCH_TO_USER_CR3: user pgd');
    return;
  }
  const kpcid = cr3.pcid & KPCID_MASK;
  const loc = k.L.pcpu(k.cpu, 'user_pcid_flush_mask');
  const mask = yield* load(loc, 'bt kPCID, user_pcid_flush_mask (1)');
  const flush = bit(mask, kpcid);
  if (flush) yield* store(loc, mask & ~(1 << kpcid), 'btr: clear the request (1)');
  yield* writeCr3(uroot, kpcid | (1 << PTI_USER_PCID_BIT), !flush, flush ? 'user CR3, flushing the user PCID (1)' : 'user CR3 | NOFLUSH');
}

/** `SWITCH_TO_KERNEL_CR3`: kernel pgd and PCID, always NOFLUSH with PCID. */
export function* switch_to_kernel_cr3(k: K<CoreRoutines>): Routine {
  const cr3 = yield* readCr3();
  yield* writeCr3(kernelRootOf(k.L, cr3.root), cr3.pcid & KPCID_MASK, k.features.pcid, 'SWITCH_TO_KERNEL_CR3');
}

/** Return to user mode through the user page tables, touch `va`, and enter the kernel again. */
export function* user_access(k: K<CoreRoutines>, va: number, write: boolean): Routine<AccessResult> {
  return yield* call(
    'user access (PTI)',
    (function* () {
      if (!k.features.pti) return yield* access(va, write, 'return to user');
      yield* irqDisable('exit to user: IRQs off');
      yield* switch_to_user_cr3(k);
      const r = yield* access(va, write, 'user mode');
      yield* switch_to_kernel_cr3(k);
      yield* irqEnable('kernel entry');
      return r;
    })(),
  );
}
