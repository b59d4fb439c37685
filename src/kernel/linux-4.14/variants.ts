/**
 * Linux 4.14 (PCID, ctx_id, tlb_gen), the base variant, and its bug variants.
 */
import { NO_FEATURES } from '../../machine/types.ts';
import { chooseNewAsid } from '../common/asid.ts';
import { initCpuPcid } from '../common/boot-pcid.ts';
import { context_switch, user_access } from '../common/sched.ts';
import { call_function_interrupt } from '../common/smp.ts';
import { derive, type Variant } from '../variant.ts';
import * as t from './tlb.ts';

export const routines414: t.R414 = {
  // 4.14 sets init_mm's bit too and clears the previous mm's bit on every switch.
  initCpu: (s, cpu, start) => initCpuPcid(s, cpu, start, { othersKeepBit: false, initMmBit: true }),
  context_switch,
  user_access,
  call_function_interrupt,
  switch_mm_irqs_off: t.switch_mm_irqs_off,
  enter_lazy_tlb: t.enter_lazy_tlb,
  choose_new_asid: chooseNewAsid(),
  flush_tlb_func_common: t.flushTlbFuncCommon({ partialOnSkip: false }),
  flush_tlb_func_local: t.flush_tlb_func_local,
  flush_tlb_func_remote: t.flush_tlb_func_remote,
  native_flush_tlb_others: t.native_flush_tlb_others,
  flush_tlb_mm_range: t.flush_tlb_mm_range,
};

/**
 * Linux 4.14 (release): per-CPU ASID slots with `ctx_id`/`tlb_gen`, NOFLUSH CR3 when the slot
 * is current, `inc_mm_tlb_gen` as the flusher's barrier, partial vs full flush by generation.
 * With PCID, lazy TLB mode is off at boot, so a kernel thread switches to init_mm at once.
 * A scenario that starts a CPU lazy (lazy-free-pgtables) stands for `tlb_use_lazy_mode`
 * turned back on through debugfs: the flush IPI then switches that CPU to init_mm.
 * Source: arch/x86/mm/tlb.c @ v4.14 (b956575bed91 shape); seed 001 (docs/seeds.md).
 * Expected: holds on every scenario.
 */
export const linux414: Variant<t.R414> = {
  id: 'linux-4.14',
  title: 'Linux 4.14: PCID with ctxs[]/ctx_id/tlb_gen, choose_new_asid, NOFLUSH CR3, partial vs full flush',
  generation: 'linux-4.14',
  kind: 'base',
  source: 'arch/x86/mm/tlb.c, asm/tlbflush.h @ v4.14 (after b956575bed91); seed 001',
  features: { ...NO_FEATURES, pcid: true, pge: true },
  sharedPcpu: new Set(),
  routines: routines414,
  expect: [
    { scenario: 'switch-vs-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'switch-vs-flush-local', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-flush', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-free-pgtables', cpus: 2, verdict: 'holds' },
    { scenario: 'lazy-free-pgtables', cpus: 3, verdict: 'holds' },
    { scenario: 'asid-reuse', cpus: 2, verdict: 'holds' },
    { scenario: 'concurrent-flushes', cpus: 2, verdict: 'holds' },
  ],
};

/**
 * `linux-4.14-reuse-asid-no-flush`: `choose_new_asid` hands out a round-robin slot, records
 * it as `next`'s at `next_tlb_gen`, and reports it current (`need_flush = false`). The slot still holds the translations of the mm that owned it before; when
 * an mm comes back to its old slot after another mm used it, its entries from before a flush
 * it missed (it was not in mm_cpumask) are used. Hazard: ASID reuse.
 * Expected: violates no-stale-tlb-use on asid-reuse.
 */
export const linux414ReuseNoFlush = derive(linux414, {
  id: 'linux-4.14-reuse-asid-no-flush',
  title: 'choose_new_asid reuses a round-robin ASID slot without a flush',
  kind: 'bug',
  source: 'choose_new_asid (v4.14): the round-robin path\'s "*need_flush = true", replaced by claiming the slot as current',
  fixedBy: 'linux-4.14',
  routines: { choose_new_asid: chooseNewAsid({ reuseNoFlush: true }) },
  expect: [
    { scenario: 'asid-reuse', cpus: 2, verdict: 'violated', invariant: 'no-stale-tlb-use' },
    { scenario: 'asid-reuse', cpus: 3, verdict: 'violated', invariant: 'no-stale-tlb-use' },
  ],
});

/**
 * `linux-4.14-noflush-stale-gen`: `choose_new_asid` finds the mm's slot and loads CR3 with
 * NOFLUSH even when `ctxs[asid].tlb_gen` is behind `next->context.tlb_gen`. A CPU that left
 * the mm (its bit cleared, so no IPI) while the mm was flushed comes back to entries older
 * than the flush. Hazard: an unloaded ASID that missed a flush.
 * Expected: violates no-stale-tlb-use on lazy-flush.
 */
export const linux414NoflushStaleGen = derive(linux414, {
  id: 'linux-4.14-noflush-stale-gen',
  title: 'switch_mm loads CR3 with NOFLUSH although the ASID slot missed a flush (tlb_gen behind)',
  kind: 'bug',
  source: 'choose_new_asid (v4.14): "need_flush = ctxs[asid].tlb_gen < next_tlb_gen", dropped',
  fixedBy: 'linux-4.14',
  routines: { choose_new_asid: chooseNewAsid({ ignoreGen: true }) },
  expect: [{ scenario: 'lazy-flush', cpus: 2, verdict: 'violated', invariant: 'no-stale-tlb-use' }],
});

/**
 * `linux-4.14-partial-on-gen-skip`: `flush_tlb_func_common` does a partial flush whenever
 * `f->new_tlb_gen == mm_tlb_gen`, without `== local_tlb_gen + 1`. When two flushes of the
 * same mm overlap, the handler of the newer one flushes only its own range, marks the CPU up
 * to date, and the older one's handler then returns early: the older range is never flushed.
 * The kernel comment's reverse-order example. Hazard: concurrent flushes.
 * Expected: violates no-stale-tlb-use on concurrent-flushes.
 */
export const linux414PartialOnSkip = derive(linux414, {
  id: 'linux-4.14-partial-on-gen-skip',
  title: 'flush_tlb_func_common flushes partially although generations were skipped',
  kind: 'bug',
  source: 'flush_tlb_func_common (v4.14): the "f->new_tlb_gen == local_tlb_gen + 1" condition, dropped',
  fixedBy: 'linux-4.14',
  routines: { flush_tlb_func_common: t.flushTlbFuncCommon({ partialOnSkip: true }) },
  expect: [
    { scenario: 'concurrent-flushes', cpus: 2, verdict: 'violated', invariant: 'no-stale-tlb-use' },
    { scenario: 'concurrent-flushes', cpus: 3, verdict: 'violated', invariant: 'no-stale-tlb-use' },
  ],
});
