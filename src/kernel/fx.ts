/**
 * Typed effect helpers for kernel routines. Write `const v = yield* fx.load(loc)`: each
 * helper yields exactly one effect and returns its typed result. A routine is a
 * `Routine<T>`, a generator that can only yield `Effect`s, so a raw `yield 42` does not
 * type-check.
 */
import { type AccessResult, type CrossCall, type Cr3Value, type Effect, type InvlpgbSpec, type IpiVia, type Site, type SoftWalk, crossCall } from '../machine/effects.ts';
import type { CpuId, Features, Loc, MmId, Pfn } from '../machine/types.ts';
import type { Layout } from './layout.ts';

export type Routine<T = void> = Generator<Effect, T, unknown>;

/** What a routine knows about where it runs: `smp_processor_id()`, the routine table, data. */
export interface K<R = unknown> {
  readonly cpu: CpuId;
  /** The variant's routine table; calls go through it so that overrides take effect. */
  readonly r: R;
  readonly L: Layout;
  readonly features: Features;
}

const at = (tag?: string): { at?: Site } => (tag === undefined ? {} : { at: { tag } });

export function* load(loc: Loc, tag?: string): Routine<number> {
  return (yield { k: 'load', loc, ...at(tag) }) as number;
}

/**
 * A software page-table walker's read of a table entry (GUP-fast): a plain load that the
 * machine also reports as a walk-read of the table page (effects.ts `SoftWalk`).
 */
export function* walkLoad(loc: Loc, walk: SoftWalk, tag?: string): Routine<number> {
  return (yield { k: 'load', loc, walk, ...at(tag) }) as number;
}

/** Plain store (`WRITE_ONCE`, `this_cpu_write`, `set_pte`): enters the store buffer. */
export function* store(loc: Loc, val: number, tag?: string): Routine {
  yield { k: 'store', loc, val, ...at(tag) };
}

/** `lock bts`: `cpumask_set_cpu`, `test_and_set_bit`. Returns the old word. */
export function* lockBts(loc: Loc, bit: number, tag?: string): Routine<number> {
  return (yield { k: 'rmw', loc, op: 'bts', a: bit, ...at(tag) }) as number;
}

/** `lock btr`: `cpumask_clear_cpu`. */
export function* lockBtr(loc: Loc, bit: number, tag?: string): Routine<number> {
  return (yield { k: 'rmw', loc, op: 'btr', a: bit, ...at(tag) }) as number;
}

/** `lock xadd`: `atomic64_inc_return` and friends. Returns the old value. */
export function* xadd(loc: Loc, delta: number, tag?: string): Routine<number> {
  return (yield { k: 'rmw', loc, op: 'xadd', a: delta, ...at(tag) }) as number;
}

/** `xchg` (implicitly LOCK'd): `ptep_get_and_clear`. */
export function* xchg(loc: Loc, val: number, tag?: string): Routine<number> {
  return (yield { k: 'rmw', loc, op: 'xchg', a: val, ...at(tag) }) as number;
}

export function* cmpxchg(loc: Loc, expected: number, val: number, tag?: string): Routine<number> {
  return (yield { k: 'rmw', loc, op: 'cmpxchg', a: expected, b: val, ...at(tag) }) as number;
}

/** `smp_mb()`: a full barrier drains the store buffer on x86. */
export function* smpMb(tag?: string): Routine {
  yield { k: 'mfence', ...at(tag) };
}

/** Spin until `until(value)`; the model blocks instead of spinning. */
export function* waitUntil(loc: Loc, until: (v: number) => boolean, what: string, tag?: string): Routine<number> {
  return (yield { k: 'wait', loc, until, what, ...at(tag) }) as number;
}

/** MOV to CR3. */
export function* writeCr3(root: Pfn, pcid: number, noflush: boolean, tag?: string): Routine {
  yield { k: 'cr3', root, pcid, noflush, ...at(tag) };
}

export function* readCr3(): Routine<Cr3Value> {
  return (yield { k: 'read-cr3' }) as Cr3Value;
}

export function* invlpg(va: number, tag?: string): Routine {
  yield { k: 'invlpg', va, ...at(tag) };
}

export function* invpcid(type: 0 | 1 | 2 | 3, pcid: number, va: number, tag?: string): Routine {
  yield { k: 'invpcid', type, pcid, va, ...at(tag) };
}

/** INVLPGB (AMD broadcast invalidation): queued on every CPU, applied asynchronously. */
export function* invlpgb(inv: InvlpgbSpec, tag?: string): Routine {
  yield { k: 'invlpgb', inv, ...at(tag) };
}

/** TLBSYNC: wait for this CPU's earlier INVLPGBs to complete everywhere. */
export function* tlbsync(tag?: string): Routine {
  yield { k: 'tlbsync', ...at(tag) };
}

/** Write CR4 with PGE set or clear. */
export function* writePge(on: boolean, tag?: string): Routine {
  yield { k: 'pge', on, ...at(tag) };
}

export function* wrmsrPasid(val: number, tag?: string): Routine {
  yield { k: 'wrmsr-pasid', val, ...at(tag) };
}

export function* readPasidMsr(): Routine<number> {
  return (yield { k: 'read-pasid-msr' }) as number;
}

export function* irqDisable(tag?: string): Routine {
  yield { k: 'irq', on: false, ...at(tag) };
}

export function* irqEnable(tag?: string): Routine {
  yield { k: 'irq', on: true, ...at(tag) };
}

export function* irqsDisabled(): Routine<boolean> {
  return (yield { k: 'irqs-disabled' }) as boolean;
}

/**
 * Queue `call` on `target` and send the IPI. The kernel's sends are `lock` (the LOCK'd
 * `llist_add` before the APIC write drains the store buffer; see `IpiVia`); litmus tests also
 * send through the xAPIC ICR store (`mmio`) and the x2APIC ICR WRMSR (`wrmsr`).
 */
export function* sendCall(target: CpuId, call: CrossCall | LegacyCrossCall, tag?: string, via: IpiVia = 'lock'): Routine {
  const c = 'fn' in call ? crossCall(call.sender, call.fn, undefined, call.csd, call.payload) : call;
  yield { k: 'ipi', target, call: c, via, ...at(tag) };
}

/**
 * A cross-call as variant files written before calls were data give it: a name (which is its
 * identity) and the closure the handler runs.
 */
export interface LegacyCrossCall {
  readonly sender: CpuId;
  readonly fn: string;
  readonly payload: unknown;
  readonly csd: Loc;
}

/** MOV to CR4 with PGE and PCIDE as given. */
export function* writeCr4(pge: boolean, pcide: boolean, tag?: string): Routine {
  yield { k: 'cr4', pge, pcide, ...at(tag) };
}

/** A data load through the translation of `va` (word 0 of the page it maps). */
export function* vload(va: number, tag?: string): Routine<AccessResult> {
  return (yield { k: 'vload', va, ...at(tag) }) as AccessResult;
}

/** A data store through the translation of `va` (buffered, to word 0 of the page it maps). */
export function* vstore(va: number, val: number, tag?: string): Routine<AccessResult> {
  return (yield { k: 'vstore', va, val, ...at(tag) }) as AccessResult;
}

export function* iret(): Routine {
  yield { k: 'iret' };
}

/** A user-mode access of `va`. */
export function* access(va: number, write: boolean, tag?: string): Routine<AccessResult> {
  return (yield { k: 'access', va, write, ...at(tag) }) as AccessResult;
}

/** A kernel access (a read) of user `va` on behalf of the running task, whose mm is `owner`. */
export function* userCopy(va: number, owner: MmId, tag?: string): Routine<AccessResult> {
  return (yield { k: 'access', va, write: false, owner, ...at(tag) }) as AccessResult;
}

export function* freePage(pfn: Pfn, tag?: string): Routine {
  yield { k: 'free-page', pfn, ...at(tag) };
}

export function* reusePage(pfn: Pfn, fill: number, tag?: string): Routine {
  yield { k: 'reuse-page', pfn, fill, ...at(tag) };
}

/** The page allocator hands free page `pfn` out as a page table of `owner` (see the effect); false if it is still in use. */
export function* allocTable(pfn: Pfn, level: 'upper' | 'leaf', owner: MmId, words: readonly (readonly [number, number])[], tag?: string): Routine<boolean> {
  return (yield { k: 'alloc-table', pfn, level, owner, words, ...at(tag) }) as boolean;
}

/** Ghost: the mm struct at slot `mm` is allocated (`alive`) or freed. */
export function* mmLife(mm: MmId, alive: boolean): Routine {
  yield { k: 'mm-life', mm, alive };
}

/** Run `body` as the kernel function `name` (shown in the trace). */
export function* call<T>(name: string, body: Routine<T>): Routine<T> {
  yield { k: 'enter', fn: name };
  const r = yield* body;
  yield { k: 'leave' };
  return r;
}

/**
 * Call `make()` as a function whose locals die when it returns: it runs in a frame of its
 * own, and only its return value enters the caller's recorded history. The steps are those of
 * `yield* make()`; what changes is state identity: two executions whose callee read different
 * values but returned the same one reach the same state (SPIN resets dead locals the same way).
 */
export function* sub<T>(fn: string, make: () => Routine<T>): Routine<T> {
  return (yield { k: 'sub', fn, make }) as T;
}

/** `cpumask_test_cpu(cpu, mask)`: one load of the mask word, of which only the bit is kept. */
export function* cpumaskTestCpu(mask: Loc, cpu: CpuId, tag?: string): Routine<boolean> {
  return yield* sub('cpumask_test_cpu', function* () {
    return bit(yield* loadBits(mask, 2 ** cpu, tag), cpu);
  });
}

/** A load of which the code keeps only `bits` (a cpumask operation that looks at some CPUs): its event says so. */
export function* loadBits(loc: Loc, bits: number, tag?: string): Routine<number> {
  return (yield { k: 'load', loc, bits, ...at(tag) }) as number;
}

/** `cpumask_any_but(mask, cpu) < nr_cpu_ids`: one load; only "another CPU is set" is kept. */
export function* cpumaskAnyBut(mask: Loc, cpu: CpuId, tag?: string): Routine<boolean> {
  return yield* sub('cpumask_any_but', function* () {
    return ((yield* load(mask, tag)) & ~(1 << cpu)) !== 0;
  });
}

/** `WARN_ON(cond)`: reported as a broken kernel assertion when `cond` holds. */
export function* warnOn(cond: boolean, what: string): Routine<boolean> {
  yield { k: 'assert', ok: !cond, what, kind: 'WARN' };
  return cond;
}

export function* bugOn(cond: boolean, what: string): Routine {
  yield { k: 'assert', ok: !cond, what, kind: 'BUG' };
}

/** Ghost: a flush of `mm` over [start, end) begins; returns a token for `flushEnd`. */
export function* flushBegin(mm: MmId, start: number, end: number, kernel = false): Routine<number> {
  return (yield { k: 'flush-begin', mm, start, end, kernel }) as number;
}

/** Ghost: the flush returns to its caller; from now on the invariant holds it to account. */
export function* flushEnd(token: number): Routine {
  yield { k: 'flush-end', token };
}

export function* pasidUpdateBegin(mm: MmId, val: number): Routine<number> {
  return (yield { k: 'pasid-update-begin', mm, val }) as number;
}

export function* pasidUpdateEnd(token: number): Routine {
  yield { k: 'pasid-update-end', token };
}

/** Ghost: a user thread of `mm` starts (`on`) or stops running on this CPU. */
export function* userRunning(mm: MmId, on: boolean): Routine {
  yield { k: 'user-running', mm, on };
}

/**
 * `preempt_count_add(1)` (`delta` 1) or `preempt_count_sub(1)` (-1): the scheduler may switch
 * the task out only where the count is 0 and IRQs are on (include/linux/preempt.h).
 */
export function* preemptCount(delta: 1 | -1): Routine {
  yield { k: 'preempt', delta };
}

export const bit = (word: number, b: number): boolean => ((word >>> b) & 1) === 1;
