/**
 * KAISER return to user and kernel entry: `_SWITCH_TO_USER_CR3` / `_SWITCH_TO_KERNEL_CR3`
 * (arch/x86/include/asm/kaiser.h, 4.4/4.9 stable, notes 1.3), and the boot state.
 *
 * The exit runs with IRQs off up to the user access and the next entry switches back before
 * they are on again; see linux-4.15-pti/entry.ts for why that loses no execution.
 */
import type { AccessResult } from '../../machine/effects.ts';
import type { CpuId } from '../../machine/types.ts';
import { type K, type Routine, access, call, irqDisable, irqEnable, load, readCr3, store, writeCr3 } from '../fx.ts';
import { initCpuNoPcid } from '../common/boot.ts';
import type { CoreRoutines, CpuStart, SetupCtx } from '../variant.ts';
import { kernelRootOf, userRootOf } from '../linux-4.15-pti/entry.ts';

/** KAISER's kernel PCID (`X86_CR3_PCID_ASID_KERN`, 4.4/4.9 stable asm/kaiser.h). */
export const KERN_PCID = 0;
/** `X86_CR3_PCID_ASID_USER`. */
export const USER_PCID = 0x80;
/** `x86_cr3_pcid_user` keeps only bit 63 (NOFLUSH) here: 1 = no flush, 0 = flush on exit. */
export const USER_CR3_NOFLUSH = 1;

/**
 * `_SWITCH_TO_USER_CR3` after the seed patch.
 *
 * Ordering:
 * 1. Read `x86_cr3_pcid_user` (orq from memory); if NOFLUSH is clear, a flush was requested
 *    by load_new_mm_cr3 / the flush primitives: re-arm NOFLUSH (movb to byte 7) and load the
 *    user CR3 without NOFLUSH, which drops the user PCID's entries before the user access.
 *    Plain per-CPU accesses with IRQs off. Pairs with tlb.ts load_new_mm_cr3 (1).
 */
export function* switch_user_cr3_percpu(k: K<CoreRoutines>): Routine {
  const cr3 = yield* readCr3();
  const uroot = userRootOf(k.L, cr3.root);
  const loc = k.L.pcpu(k.cpu, 'kaiser_user_cr3');
  const v = yield* load(loc, 'orq x86_cr3_pcid_user (1)');
  const noflush = k.features.pcid && v === USER_CR3_NOFLUSH;
  if (k.features.pcid && !noflush) yield* store(loc, USER_CR3_NOFLUSH, 'movb: re-arm NOFLUSH (1)');
  yield* writeCr3(uroot, k.features.pcid ? USER_PCID : 0, noflush, noflush ? 'user CR3 | NOFLUSH' : 'user CR3, flushing the user PCID (1)');
}

/** `_SWITCH_TO_USER_CR3` before the seed patch: a constant `X86_CR3_PCID_USER_VAR`, NOFLUSH with PCID. */
export function* switch_user_cr3_const(k: K<CoreRoutines>): Routine {
  const cr3 = yield* readCr3();
  yield* writeCr3(userRootOf(k.L, cr3.root), k.features.pcid ? USER_PCID : 0, k.features.pcid, 'user CR3 | NOFLUSH (X86_CR3_PCID_USER_VAR)');
}

/** `_SWITCH_TO_KERNEL_CR3`: kernel pgd, PCID 0, NOFLUSH with PCID (entry never flushes). */
function* switch_kernel_cr3(k: K<CoreRoutines>): Routine {
  const cr3 = yield* readCr3();
  yield* writeCr3(kernelRootOf(k.L, cr3.root), KERN_PCID, k.features.pcid, 'SWITCH_KERNEL_CR3');
}

export function userAccess(switchUser: (k: K<CoreRoutines>) => Routine) {
  return function* user_access(k: K<CoreRoutines>, va: number, write: boolean): Routine<AccessResult> {
    return yield* call(
      'user access (KAISER)',
      (function* () {
        if (!k.features.pti) return yield* access(va, write, 'return to user');
        yield* irqDisable('exit to user: IRQs off');
        yield* switchUser(k);
        const r = yield* access(va, write, 'user mode');
        yield* switch_kernel_cr3(k);
        yield* irqEnable('kernel entry');
        return r;
      })(),
    );
  };
}

/**
 * Boot state: the 4.4 variables (`active_mm`, `state`) with CR3 on PCID 0; a CPU that was in
 * user mode also has its user translations in the user PCID; `kaiser_setup_pcid()` arms
 * NOFLUSH in `x86_cr3_pcid_user` when PCID is on.
 */
export function initCpuKaiser(s: SetupCtx, cpu: CpuId, start: CpuStart): void {
  initCpuNoPcid(s, cpu, start, 'active_mm');
  s.poke(s.L.pcpu(cpu, 'kaiser_user_cr3'), s.features.pcid ? USER_CR3_NOFLUSH : 0);
  if (!s.features.pcid || !s.features.pti || start.mode !== 'user') return;
  const info = s.L.mm(start.mm);
  for (const va of start.cached) s.prefill(cpu, info.userPgd ?? info.pgd, USER_PCID, va);
}
