/**
 * Linux 4.15 PTI local flush primitives (arch/x86/include/asm/tlbflush.h @ v4.15; 4.15.0
 * names in brackets): `__native_flush_tlb`, `__flush_tlb_one_user` [`__native_flush_tlb_single`],
 * `__flush_tlb_one_kernel` [`__flush_tlb_one`], `__flush_tlb_all`.
 *
 * The split of the last two is seed 001 (docs/seeds.md): "We need to split up __flush_tlb_one() into
 * __flush_tlb_one() and __flush_tlb_one_kernel()". With PTI, kernel mappings are non-global,
 * so an INVLPG of a kernel address reaches only the current PCID.
 */
import { type K, type Routine, call, invlpg, invpcid, load, readCr3, writeCr3, writePge } from '../fx.ts';
import { invalidate_other_asid, invalidate_user_asid, userPcid } from './asid.ts';

/** `__native_flush_tlb()`: flush this ASID's kernel PCID now, its user PCID on exit. */
export function* __native_flush_tlb(k: K<unknown>): Routine {
  yield* call(
    '__native_flush_tlb',
    (function* () {
      yield* invalidate_user_asid(k, yield* load(k.L.pcpu(k.cpu, 'loaded_mm_asid')));
      const cr3 = yield* readCr3();
      // native_write_cr3(__native_read_cr3()): a value read from CR3 never has NOFLUSH set.
      yield* writeCr3(cr3.root, cr3.pcid, false, 'CR3 = CR3: flush the kernel PCID');
    })(),
  );
}

/**
 * `__flush_tlb_one_user(addr)`: INVLPG hits the current (kernel) PCID; the user PCID is
 * flushed precisely with INVPCID, or wholly on the next exit without it.
 */
export function* __flush_tlb_one_user(k: K<unknown>, addr: number): Routine {
  yield* call(
    '__flush_tlb_one_user',
    (function* () {
      yield* invlpg(addr, 'INVLPG: current PCID and global entries');
      if (!k.features.pti) return;
      const asid = yield* load(k.L.pcpu(k.cpu, 'loaded_mm_asid'));
      if (!k.features.invpcid) yield* invalidate_user_asid(k, asid);
      else yield* invpcid(0, userPcid(k, asid), addr, 'invpcid_flush_one(user_pcid(asid), addr)');
    })(),
  );
}

/**
 * `__flush_tlb_one_kernel(addr)`: as for a user address, and with PTI (kernel PTEs
 * non-global) every other cached ASID is marked stale: they are flushed in full when next
 * used (`choose_new_asid` -> `clear_asid_other`).
 */
export function* __flush_tlb_one_kernel(k: K<unknown>, addr: number): Routine {
  yield* call(
    '__flush_tlb_one_kernel',
    (function* () {
      yield* __flush_tlb_one_user(k, addr);
      if (!k.features.pti) return; // kernel PTEs are global: INVLPG reached every PCID
      yield* invalidate_other_asid(k);
    })(),
  );
}

/**
 * `__flush_tlb_all()`: with PGE, `__flush_tlb_global()` (INVPCID type 2, or a CR4.PGE toggle);
 * else `__flush_tlb()`. 4.15 forces PCID off when PGE is off ("if we somehow had PCID but not
 * PGE, then this wouldn't work"), so the variants of this generation run with PGE on.
 */
export function* __flush_tlb_all(k: K<unknown>): Routine {
  yield* call(
    '__flush_tlb_all',
    (function* () {
      if (!k.features.pge) {
        yield* __native_flush_tlb(k);
      } else if (k.features.invpcid) {
        yield* invpcid(2, 0, 0, 'invpcid_flush_all()');
      } else {
        yield* writePge(false, 'CR4 ^= PGE');
        yield* writePge(true, 'CR4 = cr4');
      }
    })(),
  );
}
