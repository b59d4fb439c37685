/**
 * What the hardware did in a step, as data: one event per machine action, with the operands
 * and what it read on the way (the store buffer it forwarded from, the table entries a walk or
 * an early-walk probe read). The machine appends them to `Machine.events` while a consumer has
 * set it (the searches with partial-order reduction do); it never says what they mean to anyone.
 *
 * Partial-order reduction derives a step's footprint from this stream in one place
 * (explore/footprint.ts `footprintOf`): the machine knows semantics only. The engine appends
 * the events that are not the hardware's (`prog`, `end`, `ghost`, `budget`) to the same stream.
 *
 * Unlike the trace's event data (explore/event-data.ts), which says what a kernel effect did
 * for a reader, these name every machine-level action an effect is made of: an INVLPG is a
 * `drain` (of the store buffer, maybe empty) and an `insn`; an access is an `access`, maybe a
 * `walk` with its `ad` update, maybe a `drain` and the `probe`s of a page fault, and a `use`.
 */
import type { CpuId, Loc, Pfn } from './types.ts';
import type { WalkPlan } from './machine.ts';

export type HwEvent =
  /** A TSO load of `loc` by `cpu`, whose store buffer held `sb` entries (it may forward from them). */
  | { readonly k: 'load'; readonly cpu: CpuId; readonly loc: Loc; readonly sb: number }
  /** The ghost version of `loc` that `cpu` sees (its newest buffered store to it, else memory's). */
  | { readonly k: 'wid'; readonly cpu: CpuId; readonly loc: Loc }
  /** A plain store: `buffered` into the store buffer, else (a private variable) straight to memory. */
  | { readonly k: 'store'; readonly cpu: CpuId; readonly loc: Loc; readonly buffered: boolean }
  /** An xAPIC ICR store entered the store buffer. */
  | { readonly k: 'icr-store'; readonly cpu: CpuId }
  /** `n` entries of `cpu`'s store buffer drained (0: an instruction waited for it to be empty). */
  | { readonly k: 'drain'; readonly cpu: CpuId; readonly n: number }
  /** A drained store reached memory word `loc`. */
  | { readonly k: 'commit'; readonly loc: Loc }
  /** A LOCK'd read-modify-write of `loc` (the `drain` before it is its own event). */
  | { readonly k: 'rmw'; readonly cpu: CpuId; readonly loc: Loc }
  /** An IPI raised on `target` (a call queued there). */
  | { readonly k: 'ipi'; readonly target: CpuId }
  /**
   * An early-walk probe (`Machine.walksNotPresent`): whether `cpu`'s walker would find a
   * scenario address not present now. It read `cpu`'s translation state, upper entry `upper`
   * (-1: a PSC hit, or no CR3 yet) and leaf entry `leaf` (-1: not reached).
   */
  | { readonly k: 'probe'; readonly cpu: CpuId; readonly upper: Loc; readonly leaf: Loc }
  /** An early not-present walk was recorded for `cpu`. */
  | { readonly k: 'early'; readonly cpu: CpuId }
  /** A hardware walk of `va` by `cpu` (`plan`: what it read and filled; none before any CR3). */
  | { readonly k: 'walk'; readonly cpu: CpuId; readonly va: number; readonly plan: WalkPlan | undefined }
  /** The walker's locked accessed/dirty update of leaf entry `loc`. */
  | { readonly k: 'ad'; readonly loc: Loc }
  /** A software walker read a table word of page `pfn`. */
  | { readonly k: 'soft-walk'; readonly pfn: Pfn }
  /** A translated access by `cpu` began (it looks up and may change the TLB, and is judged against the ghost state). */
  | { readonly k: 'access'; readonly cpu: CpuId }
  /** The access used a translation to `pfn` (judged against the page's lifecycle). */
  | { readonly k: 'use'; readonly pfn: Pfn }
  /** A spontaneous eviction from `cpu`'s TLB or PSC. */
  | { readonly k: 'evict'; readonly cpu: CpuId }
  /** An instruction that changes `cpu`'s translation state or MSRs (MOV CR3/CR4, INVLPG, INVPCID, WRMSR). */
  | { readonly k: 'insn'; readonly cpu: CpuId }
  /** IRET on `cpu`; `forgot`: it forgot early walks (serializing). */
  | { readonly k: 'iret'; readonly cpu: CpuId; readonly forgot: boolean }
  /** `cpu`'s IRQ flag set or cleared. */
  | { readonly k: 'irq'; readonly cpu: CpuId }
  /** Interrupt entry on `cpu`: its queued calls taken, IRQs off, a handler runs. */
  | { readonly k: 'deliver'; readonly cpu: CpuId }
  /** INVLPGB by `cpu`: its invalidation queued on every CPU. */
  | { readonly k: 'invlpgb'; readonly cpu: CpuId }
  /** TLBSYNC by `cpu` completed (it read every CPU's queue). */
  | { readonly k: 'tlbsync'; readonly cpu: CpuId }
  /** `cpu`'s broadcast actor applied an invalidation from its queue. */
  | { readonly k: 'bcast'; readonly cpu: CpuId }
  /** Page `pfn` freed. */
  | { readonly k: 'page-free'; readonly pfn: Pfn }
  /** Page `pfn` handed out again (data or a table): its kind changed and every word rewritten. */
  | { readonly k: 'page-reuse'; readonly pfn: Pfn }
  /** Page `pfn` was asked for but is still in use: not handed out. */
  | { readonly k: 'page-busy'; readonly pfn: Pfn }
  /** Ghost: an mm struct allocated or freed. */
  | { readonly k: 'mm-life' }
  // ---- appended by the engine ----
  /** `cpu`'s program (or its scheduler, or an NMI) moved. */
  | { readonly k: 'prog'; readonly cpu: CpuId }
  /** The execution ended (no more walks or evictions). */
  | { readonly k: 'end' }
  /** Ghost bookkeeping of a kernel marker (flush or PASID update begun or returned, user mode entered or left). */
  | { readonly k: 'ghost' }
  /** One taken from the execution's budget of kernel preemptions or of NMIs (shared by every CPU). */
  | { readonly k: 'budget'; readonly of: 'preemptions' | 'nmi' };
