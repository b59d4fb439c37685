/**
 * Cross-calls: `smp_call_function_many`, `smp_call_function_single`, and the IPI handler that
 * runs them. Tracks kernel/smp.c of Linux 4.13 (the shape is the same from 4.9 to 4.20).
 * The built-in generations run the senders as C (src/kernel/c/common/smp-calls-4.9-4.20.c,
 * which takes the same steps as these, common/smp-cond-4.19-4.20.c and linux-6.18/smp.c),
 * and so does the handler (those files' `flush_smp_call_function_queue`, which takes the steps
 * of `call_function_interrupt` here); what uses this file is the handler of TypeScript variants
 * and of a C program that links no smp file, the data-call path both handlers
 * share (`runCall`), RCU's grace-period call, and a user's C program that calls these kernel
 * functions without linking those files.
 *
 * Simplifications, each safe for the scenarios here:
 * - `cpumask_first_and` and `cpumask_next_and` read the mask word once between them: both
 *   only decide between the single-target fast path and the many path, and both paths queue
 *   to exactly the CPUs of the later read (`cpumask_and` into `cfd->cpumask`), which is a
 *   separate load here.
 * - All CPUs are online; `csd->func`/`csd->info` are written to the sender's own csd and only
 *   read by the target after the LOCK'd `llist_add`, which drains them: they are the payload.
 * - The llist and the APIC write are one LOCK'd step (`sendCall`, `IpiVia` 'lock'); the
 *   handler's `llist_del_all` is part of interrupt delivery. The APIC write itself is an
 *   xAPIC ICR store or an x2APIC WRMSR (fenced by `x2apic_wrmsr_fence()`, MFENCE, up to 5.10;
 *   `weak_wrmsr_fence()`, MFENCE; LFENCE, from 25a068b8e9a4 in 5.11): after the LOCK'd
 *   `llist_add` has drained the store buffer there is no buffered store for either to
 *   overtake, so one step serves every generation (the litmus tests `tlb-ipi-*` show the
 *   sends apart).
 *
 * Ordering:
 * 1. `csd_lock_wait` on the sender sees the target's `csd_unlock` only after the target ran
 *    the function; FIFO store buffers make every store of the function visible first.
 */
import { type CallData, type CrossCall, crossCall } from '../../machine/effects.ts';
import type { CpuId, Loc } from '../../machine/types.ts';
import { ModelError } from '../../errors.ts';
import { callTextV4 } from '../call-text.ts';
import { type K, type Routine, bit, call, iret, load, sendCall, store, waitUntil, warnOn, irqsDisabled } from '../fx.ts';
import type { CoreRoutines } from '../variant.ts';

export type CallFn = (k: K<CoreRoutines>) => Routine;

/**
 * What a cross-call runs on its target: `func(info)`, a C function of the variant with its
 * argument as data (what tells two queued calls apart in a state fingerprint), or, for
 * TypeScript glue, the closure `run` (then `func` alone names it).
 */
export interface CallSpec {
  readonly func: string;
  readonly info?: CallData;
  readonly run?: CallFn;
}

/** Run the call of `spec` on the CPU of `k`: its closure, else its C function through the variant. */
export function* runCall(k: K<CoreRoutines>, spec: CallSpec): Routine {
  if (spec.run) yield* spec.run(k);
  else if (k.r.cross_call) yield* k.r.cross_call(k, spec.func, spec.info);
  else throw new ModelError(`cpu${k.cpu} runs a cross-call of ${spec.func}(), but the variant runs no C functions`);
}

/** The queued call of `spec` from `sender`, released through `csd`. */
export const queued = (sender: CpuId, spec: CallSpec, csd: Loc): CrossCall => crossCall(sender, spec.func, spec.info, csd, spec.run);

/** What a sender waits for: `cpu1 ran flush_tlb_func(mmA, ...)`. */
export const ranText = (k: K<CoreRoutines>, t: CpuId, spec: CallSpec): string => `cpu${t} ran ${callTextV4(k.L, spec)}`;

const csdUnlocked = (v: number): boolean => v === 0;

/** `csd_lock()`: wait for the previous use of this csd, then take it. */
function* csd_lock(csd: Loc): Routine {
  yield* waitUntil(csd, csdUnlocked, 'csd unlocked', 'csd_lock_wait');
  yield* store(csd, 1, 'csd->flags |= CSD_FLAG_LOCK');
}

function* queueOne(k: K<CoreRoutines>, target: number, spec: CallSpec): Routine {
  const csd = k.L.csd(k.cpu, target);
  yield* csd_lock(csd);
  yield* sendCall(target, queued(k.cpu, spec, csd), 'llist_add + send IPI');
}

/**
 * `smp_call_function_single(cpu, func, info, wait=1)` (kernel/smp.c).
 */
export function* smp_call_function_single(k: K<CoreRoutines>, target: number, spec: CallSpec): Routine {
  yield* call(
    'smp_call_function_single',
    (function* () {
      yield* warnOn(yield* irqsDisabled(), 'smp_call_function_single with IRQs off');
      // wait=1: the csd lives on the stack, born locked (CSD_FLAG_LOCK | CSD_FLAG_SYNCHRONOUS).
      const csd = k.L.csd(k.cpu, target);
      yield* store(csd, 1, 'csd_stack: flags = LOCK|SYNCHRONOUS');
      yield* sendCall(target, queued(k.cpu, spec, csd), 'llist_add + send IPI');
      yield* waitUntil(k.L.csd(k.cpu, target), csdUnlocked, ranText(k, target, spec), 'csd_lock_wait (1)');
    })(),
  );
}

/**
 * `smp_call_function_many(mask, func, info, wait=1)` (kernel/smp.c, 4.13): every CPU in the
 * mask but this one runs `func` in interrupt context; returns when all have run it.
 */
export function* smp_call_function_many(k: K<CoreRoutines>, mask: Loc, spec: CallSpec): Routine {
  yield* call(
    'smp_call_function_many',
    (function* () {
      const me = k.cpu;
      const n = k.L.cpus;
      yield* warnOn(yield* irqsDisabled(), 'smp_call_function_many with IRQs off');
      // cpumask_first_and / cpumask_next_and: is there one target or more?
      const w1 = yield* load(mask, 'cpumask_first_and(mask)');
      const first: number[] = [];
      for (let c = 0; c < n; c++) if (c !== me && bit(w1, c)) first.push(c);
      if (first.length === 0) return;
      if (first.length === 1) {
        yield* smp_call_function_single(k, first[0]!, spec);
        return;
      }
      // cpumask_and(cfd->cpumask, mask, cpu_online_mask): a second read of the mask.
      const w2 = yield* load(mask, 'cpumask_and(cfd->cpumask, mask)');
      const targets: number[] = [];
      for (let c = 0; c < n; c++) if (c !== me && bit(w2, c)) targets.push(c);
      // "Some callers race with other cpus changing the passed mask"
      if (targets.length === 0) return;
      yield* queueAndWait(k, targets, spec);
    })(),
  );
}

/**
 * The many-targets tail of `smp_call_function_many(..., wait=1)`: queue `func` on every CPU of
 * `targets` (never this one), then wait until each has run it. Exported for `on_each_cpu`
 * callers whose mask is constant (`cpu_online_mask`: every CPU of the model is online).
 */
export function* queueAndWait(k: K<CoreRoutines>, targets: readonly number[], spec: CallSpec): Routine {
  for (const t of targets) yield* queueOne(k, t, spec);
  for (const t of targets) {
    yield* waitUntil(k.L.csd(k.cpu, t), csdUnlocked, ranText(k, t, spec), 'csd_lock_wait (1)');
  }
}

/**
 * `smp_call_function_interrupt` -> `generic_smp_call_function_single_interrupt` ->
 * `flush_smp_call_function_queue` (kernel/smp.c): run each queued function, then release its
 * csd (`csd_unlock`, a release store: plain on x86), then IRET.
 */
export function* call_function_interrupt(k: K<CoreRoutines>, calls: readonly CrossCall[]): Routine {
  yield* call(
    'flush_smp_call_function_queue',
    (function* () {
      for (const c of calls) {
        // CSD_FLAG_SYNCHRONOUS: the function runs before the csd is released.
        yield* runCall(k, c.payload === undefined ? { func: c.func, info: c.info } : { func: c.func, run: c.payload as CallFn });
        yield* store(c.csd, 0, 'csd_unlock: smp_store_release (1)');
      }
    })(),
  );
  yield* iret();
}
