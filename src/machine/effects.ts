/**
 * The effects a kernel routine may yield: the only channel between a routine and the machine.
 *
 * Most effects are *steps*: one atomic hardware action and one possible preemption point.
 * A few are *instant*: they touch no state another actor can observe (ghost markers,
 * assertions, reads of the CPU's own registers, and private per-CPU variables while IRQs are
 * off). The engine runs instant effects right after the step before them, without a branch
 * point; see `isInstant` in the engine.
 */
import type { CpuId, Loc, MmId, Pfn } from './types.ts';

export type RmwOp = 'bts' | 'btr' | 'xadd' | 'xchg' | 'cmpxchg' | 'or' | 'and';

/**
 * Plain data a cross-call's argument may hold: a kernel C value (numbers, names, nested
 * records such as a `struct flush_tlb_info`), never a closure. A shared word in it (a kc `mem`
 * value) carries its location number; event data names it by what it is (`callBody`).
 */
export type CallData = number | string | boolean | undefined | readonly CallData[] | { readonly [key: string]: CallData };

/** A queued cross-call (one `call_single_data` on the target's queue). */
export interface CrossCall {
  readonly sender: CpuId;
  /** The function the target runs: a C function of the variant, or a TypeScript handler's name. */
  readonly func: string;
  /** Its argument (`info`) as data; undefined when it takes none. */
  readonly info?: CallData;
  /** The call's identity, `func` and `info` in canonical form (`callKey`): what fingerprints hash. */
  readonly key: string;
  /** The csd lock word the handler releases when the function has run. */
  readonly csd: Loc;
  /**
   * TypeScript glue only (the litmus harness, a derived TypeScript variant): the closure the
   * handler runs instead of calling `func`. `key` must tell two different closures apart.
   */
  readonly payload?: unknown;
}

/** `v` as canonical text: object keys sorted, so equal data gives equal text. */
export function dataKey(v: CallData): string {
  if (v === undefined) return 'u';
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${(v as readonly CallData[]).map(dataKey).join(',')}]`;
  const o = v as { readonly [key: string]: CallData };
  return `{${Object.keys(o)
    .filter((key) => o[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${dataKey(o[key])}`)
    .join(',')}}`;
}

/** The identity of a call of `func` with `info`. */
export const callKey = (func: string, info: CallData): string => (info === undefined ? func : `${func}(${dataKey(info)})`);

/** A cross-call from `sender` of `func(info)`, its csd `csd`; `payload` for TypeScript glue. */
export function crossCall(sender: CpuId, func: string, info: CallData, csd: Loc, payload?: unknown): CrossCall {
  return payload === undefined ? { sender, func, info, key: callKey(func, info), csd } : { sender, func, info, key: callKey(func, info), csd, payload };
}

/**
 * The outcome of a translated access. `early`: the access used a not-present walk made before
 * it (since the CPU's last serializing instruction), not one made when it ran.
 * `val`: for a data load through the translation, the word it read.
 */
export type AccessResult =
  | { readonly ok: true; readonly pfn: Pfn; readonly val?: number }
  | { readonly ok: false; readonly fault: 'not-present' | 'read-only'; readonly early?: true };

/**
 * The machine's account of an access: its result and, for one that succeeded, whether a TLB
 * hit served it (`viaTlb`). That is for the trace only: the routine that made the access gets
 * the `AccessResult` without it (explore/dispatch.ts `routineInput`), so a walk just before an
 * access that would make the same one changes nothing a routine can see (deferral's absorbed
 * walks, explore/stateful.ts).
 */
export type AccessOutcome =
  | { readonly ok: true; readonly pfn: Pfn; readonly viaTlb: boolean; readonly val?: number }
  | { readonly ok: false; readonly fault: 'not-present' | 'read-only'; readonly early?: true };

/**
 * How an IPI is sent (SDM Vol. 3A §11.6 / §11.12 in recent editions; Linux arch/x86/kernel/apic):
 * - `lock`: the kernel's `llist_add` (LOCK cmpxchg) then the APIC write, one step: the LOCK
 *   drains the store buffer first, so nothing buffered is left for the write to overtake;
 * - `mmio`: xAPIC, a store to the memory-mapped ICR: it enters the store buffer in order with
 *   the stores before it, and the IPI is raised when it drains (the sender does not wait);
 * - `wrmsr`: x2APIC, WRMSR to the ICR, which is *not* serializing: the IPI is raised at once,
 *   possibly before the sender's buffered stores are visible. The kernel fences it
 *   (`weak_wrmsr_fence`: MFENCE; LFENCE), which litmus writes as `IPI n,X2APIC,FENCE`.
 */
export type IpiVia = 'lock' | 'mmio' | 'wrmsr';

/**
 * What one INVLPGB asks every processor to invalidate (AMD64 APM Vol. 3, "INVLPGB"; Linux
 * arch/x86/include/asm/tlb.h `__invlpgb` and its INVLPGB_FLAG_* bits). Each `null` filter is
 * a clear valid bit in rAX, and the entry matches whatever it holds there.
 */
export interface InvlpgbSpec {
  /** rAX[0] (VA valid): the range of `nr` pages from `va` (ECX[15:0] + 1 pages). */
  readonly va: number | null;
  readonly nr: number;
  /** rAX[1] (PCID valid), EDX[27:16]. */
  readonly pcid: number | null;
  /**
   * rAX[2] (ASID valid), EDX[15:0]. The model has no guests: every entry belongs to the host,
   * ASID 0, so ASID 0 matches every entry and any other ASID none.
   */
  readonly asid: number | null;
  /** rAX[3]: global translations too (a global entry then matches whatever its PCID). */
  readonly global: boolean;
  /** rAX[4]: final translations (TLB) only, not the paging-structure caches. */
  readonly finalOnly: boolean;
}

/** What a software walker's load reads: which level of whose tree (see the `load` effect). */
export interface SoftWalk {
  readonly level: 'root' | 'leaf';
  /** The mm whose tree the walker walks; left out, the running task's (`current->mm`, GUP-fast's). */
  readonly mm?: MmId;
  /** The address walked. */
  readonly va: number;
}

/** Where a routine is, for the trace: kernel function and ordering tag. */
export interface Site {
  readonly tag?: string;
  readonly note?: string;
}

export type Effect =
  // ---- memory (steps) ----
  /**
   * With `walk`, a software page-table walker's read of a table entry (GUP-fast's lockless
   * `pmdp_get_lockless` / `ptep_get_lockless`): an ordinary load, which the machine also
   * reports as a walk-read of the table page, so the walk invariant judges it like a hardware walk.
   */
  /**
   * `bits`: the bits of the word the code keeps (`cpumask_test_cpu`: its CPU's), when it keeps
   * only some; what the event data says the load observed.
   */
  | { readonly k: 'load'; readonly loc: Loc; readonly walk?: SoftWalk; readonly bits?: number; readonly at?: Site }
  | { readonly k: 'store'; readonly loc: Loc; readonly val: number; readonly at?: Site }
  | { readonly k: 'rmw'; readonly loc: Loc; readonly op: RmwOp; readonly a: number; readonly b?: number; readonly at?: Site }
  | { readonly k: 'mfence'; readonly at?: Site }
  /** Spin until the loaded value satisfies `until` (one step once it does; blocked before). */
  | { readonly k: 'wait'; readonly loc: Loc; readonly until: (v: number) => boolean; readonly what: string; readonly at?: Site }
  // ---- instructions (steps) ----
  | { readonly k: 'cr3'; readonly root: Pfn; readonly pcid: number; readonly noflush: boolean; readonly at?: Site }
  | { readonly k: 'invlpg'; readonly va: number; readonly at?: Site }
  | { readonly k: 'invpcid'; readonly type: 0 | 1 | 2 | 3; readonly pcid: number; readonly va: number; readonly at?: Site }
  | { readonly k: 'pge'; readonly on: boolean; readonly at?: Site }
  | { readonly k: 'wrmsr-pasid'; readonly val: number; readonly at?: Site }
  | { readonly k: 'irq'; readonly on: boolean; readonly at?: Site }
  /** Queue a call on the target and send the IPI, `via` one of the ways in `IpiVia`. */
  | { readonly k: 'ipi'; readonly target: CpuId; readonly call: CrossCall; readonly via: IpiVia; readonly at?: Site }
  /**
   * INVLPGB: queue the invalidation on every CPU (this one included); each CPU applies it as
   * a separate hardware step. Weakly ordered: it does not drain the store buffer.
   */
  | { readonly k: 'invlpgb'; readonly inv: InvlpgbSpec; readonly at?: Site }
  /** TLBSYNC: wait until every INVLPGB this CPU issued before it has been applied everywhere. */
  | { readonly k: 'tlbsync'; readonly at?: Site }
  /** MOV to CR4 writing PGE and PCIDE (serializing; SDM §4.10.4.1 says what it invalidates). */
  | { readonly k: 'cr4'; readonly pge: boolean; readonly pcide: boolean; readonly at?: Site }
  /** Return from the interrupt handler: serializing; restores IRQs. */
  | { readonly k: 'iret'; readonly at?: Site }
  /**
   * A user-mode access to `va` through the TLB (walks on a miss). With `owner`, a kernel access
   * to user memory (copy_from_user_nmi) on behalf of the running task, whose mm is `owner`.
   */
  | { readonly k: 'access'; readonly va: number; readonly write: boolean; readonly owner?: MmId; readonly at?: Site }
  /** A data load through the translation of `va`: word 0 of the page reached (litmus `LOAD`). */
  | { readonly k: 'vload'; readonly va: number; readonly at?: Site }
  /** A data store through the translation of `va`: buffered, to word 0 of the page reached. */
  | { readonly k: 'vstore'; readonly va: number; readonly val: number; readonly at?: Site }
  /** The page allocator frees `pfn` (ghost lifecycle change). */
  | { readonly k: 'free-page'; readonly pfn: Pfn; readonly at?: Site }
  /** The page allocator hands `pfn` out again as data and it is overwritten with `fill`. */
  | { readonly k: 'reuse-page'; readonly pfn: Pfn; readonly fill: number; readonly at?: Site }
  /**
   * The page allocator hands free page `pfn` out as a page table of mm `owner` (`upper`: a
   * pgd, `leaf`: a PTE page), its words set to `words` (index, value) and 0 elsewhere
   * (pgd_alloc, or fork's dup_mmap filling the child's tables). A page still in use is not
   * handed out (the result is false).
   */
  | { readonly k: 'alloc-table'; readonly pfn: Pfn; readonly level: 'upper' | 'leaf'; readonly owner: MmId; readonly words: readonly (readonly [number, number])[]; readonly at?: Site }
  // ---- instant ----
  | { readonly k: 'enter'; readonly fn: string }
  | { readonly k: 'leave' }
  | { readonly k: 'assert'; readonly ok: boolean; readonly what: string; readonly kind: 'WARN' | 'BUG' }
  | { readonly k: 'read-cr3' }
  | { readonly k: 'irqs-disabled' }
  | { readonly k: 'read-pasid-msr' }
  /**
   * A read of a word that does not change while the reader can reach it (`mm->context.ctx_id`:
   * written by init_new_context() before the mm is published, never again): the CPU's view
   * (its own buffered store, else memory), in the step it is part of.
   */
  | { readonly k: 'read-fixed'; readonly loc: Loc }
  /**
   * Ghost: the mm struct at slot `mm` (its address) is allocated (`alive`) or freed; either
   * starts a new generation of the slot (Machine.mmGen).
   */
  | { readonly k: 'mm-life'; readonly mm: MmId; readonly alive: boolean }
  | { readonly k: 'flush-begin'; readonly mm: MmId; readonly start: number; readonly end: number; readonly kernel: boolean }
  | { readonly k: 'flush-end'; readonly token: number }
  | { readonly k: 'pasid-update-begin'; readonly mm: MmId; readonly val: number }
  | { readonly k: 'pasid-update-end'; readonly token: number }
  | { readonly k: 'user-running'; readonly mm: MmId; readonly on: boolean }
  /** `preempt_count_add(1)` / `preempt_count_sub(1)`: the running task's preempt_count (per CPU). */
  | { readonly k: 'preempt'; readonly delta: 1 | -1 }
  /** Run a called function in a frame of its own; its return value is the result (`fx.sub`). */
  | { readonly k: 'sub'; readonly fn: string; readonly make: () => Generator<Effect, unknown, unknown> };

export type EffectKind = Effect['k'];

export interface Cr3Value {
  readonly root: Pfn;
  readonly pcid: number;
}
