/**
 * The conditional cross-call of 4.19-5.x: `on_each_cpu_cond_mask` with `gfp_flags`
 * (kernel/smp.c, 4.20: the condition is evaluated for every CPU first, then
 * `on_each_cpu_mask`). 6.x runs kernel/smp.c as C (src/kernel/c/linux-6.18/smp.c).
 *
 * Simplifications, as in smp.ts: the mask word is read once (the kernel's
 * `cpumask_first_and`/`cpumask_and` pair only picks a fast path and the queue set); all CPUs
 * are online; queueing a csd and sending the IPI is one LOCK'd step. A condition reads the
 * target's per-CPU state with plain loads on the sender (`per_cpu(..., cpu)`); it runs as a
 * `sub` call, so only its verdict stays in the caller's history (its locals die at return).
 *
 * Ordering:
 * 1. `csd_lock_wait` sees a target's `csd_unlock` only after the target ran the function
 *    (FIFO store buffers), as in smp.ts (1).
 */
import type { CpuId, Loc } from '../../machine/types.ts';
import { type K, type Routine, bit, call, irqDisable, irqEnable, load, sendCall, store, sub, waitUntil } from '../fx.ts';
import type { CoreRoutines } from '../variant.ts';
import { type CallSpec, queued, ranText, runCall } from './smp.ts';

/** `smp_cond_func_t`: decides on the sender whether `cpu` gets the call. */
export type CondFn = (k: K<CoreRoutines>, cpu: CpuId) => Routine<boolean>;

const unlocked = (v: number): boolean => v === 0;

function* queue(k: K<CoreRoutines>, t: CpuId, spec: CallSpec): Routine {
  const csd = k.L.csd(k.cpu, t);
  yield* waitUntil(csd, unlocked, 'csd unlocked', 'csd_lock_wait');
  yield* store(csd, 1, 'csd_lock');
  yield* sendCall(t, queued(k.cpu, spec, csd), 'llist_add + send IPI');
}

function* waitAll(k: K<CoreRoutines>, targets: readonly CpuId[], spec: CallSpec): Routine {
  for (const t of targets) yield* waitUntil(k.L.csd(k.cpu, t), unlocked, ranText(k, t, spec), 'csd_lock_wait (1)');
}

function* runLocal(k: K<CoreRoutines>, spec: CallSpec): Routine {
  yield* irqDisable('local_irq_save');
  yield* runCall(k, spec);
  yield* irqEnable('local_irq_restore');
}

/**
 * `on_each_cpu_cond_mask(cond_func, func, info, wait=1, gfp, mask)` (kernel/smp.c, 4.20),
 * or `on_each_cpu_mask` when `cond` is undefined: build the set of CPUs in `mask` for which
 * `cond` holds, `smp_call_function_many` to the others and wait, then run `func` here if this
 * CPU is in the set.
 */
export function* on_each_cpu_cond_mask(k: K<CoreRoutines>, cond: CondFn | undefined, mask: Loc, spec: CallSpec): Routine {
  yield* call(
    cond ? 'on_each_cpu_cond_mask' : 'on_each_cpu_mask',
    (function* () {
      const w = yield* load(mask, 'for_each_cpu(cpu, mask)');
      const set: CpuId[] = [];
      for (let c = 0; c < k.L.cpus; c++) if (bit(w, c) && (!cond || (yield* sub('cond_func', () => cond(k, c))))) set.push(c);
      const remote = set.filter((c) => c !== k.cpu);
      for (const t of remote) yield* queue(k, t, spec);
      yield* waitAll(k, remote, spec);
      if (set.includes(k.cpu)) yield* runLocal(k, spec);
    })(),
  );
}
