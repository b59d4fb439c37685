/**
 * A variant: a table of routines, the machine it runs on, and the verdicts it is expected to
 * get. Every built-in variant is a C program (src/kernel/c/, built by src/kc/variant.ts): its
 * routine table holds the entry points the scenarios call, each running the C, next to the
 * TypeScript glue (boot, the scheduler's context_switch, the IPI entry, the return to user).
 * A `.ts` variant file (`derive(getVariant('linux-4.13'), {...})`) may replace entry points or
 * glue; patches to the kernel code itself are `.c` files.
 */
import type { CallData, CrossCall, AccessResult } from '../machine/effects.ts';
import type { Bounds, CpuId, Features, Loc, MmId, Pfn } from '../machine/types.ts';
import type { K, Routine } from './fx.ts';
import type { Layout, PcpuField } from './layout.ts';
import type { Val } from '../kc/ir.ts';

/** How a CPU starts, in generation-neutral terms; each generation maps it to its variables. */
export interface CpuStart {
  /** `user`: a user thread of `mm` runs; `lazy`: a kernel thread borrows `mm`; `idle`: kernel thread on init_mm. */
  readonly mode: 'user' | 'lazy' | 'idle';
  readonly mm: MmId;
  /** Virtual addresses whose translation in `mm` is already cached (TLB and PSC). */
  readonly cached: readonly number[];
  /**
   * PCID generations: other mms whose ASID slot on this CPU still holds cached translations
   * (and whose cpumask bit is still set when `inMask`).
   */
  readonly others?: readonly { readonly mm: MmId; readonly cached: readonly number[]; readonly inMask: boolean }[];
  /**
   * INVLPGB generations (6.15+): `mm` holds this global ASID (mm->context.global_asid), and
   * this CPU runs it there (`onGlobal`) or still on its dynamic ASID slot, a CPU the
   * transition to the global ASID has not reached yet (mm->context.asid_transition is then
   * set). Ignored without the invlpgb feature, as the kernel hands out no global ASID then.
   */
  readonly globalAsid?: { readonly asid: number; readonly onGlobal: boolean };
}

/** What a generation may do to the machine before the first step. */
export interface SetupCtx {
  readonly L: Layout;
  readonly features: Features;
  poke(loc: number, val: number): void;
  peek(loc: number): number;
  setCr3(cpu: CpuId, root: Pfn, pcid: number): void;
  /** Walk `va` on `cpu` in (root, pcid) and cache the result in its TLB and PSC. */
  prefill(cpu: CpuId, root: Pfn, pcid: number, va: number): void;
  setIrq(cpu: CpuId, on: boolean): void;
}

/** The entry points scenario programs call. Every generation provides them. */
export interface CoreRoutines {
  /** Boot state of one CPU (not a routine: runs before the first step). */
  initCpu(s: SetupCtx, cpu: CpuId, start: CpuStart): void;
  /** `context_switch()` to a user task of `next`, or to a kernel thread when `next` is NO_MM. */
  context_switch(k: K<CoreRoutines>, next: MmId): Routine;
  /** Return to user mode and access `va` (PTI: through the user page tables). */
  user_access(k: K<CoreRoutines>, va: number, write: boolean): Routine<AccessResult>;
  /** `switch_mm_irqs_off(prev, next, tsk)`: the C function of the generation. */
  switch_mm_irqs_off(k: K<CoreRoutines>, prev: MmId, next: MmId): Routine;
  /** `enter_lazy_tlb(mm, tsk)`: the C function of the generation. */
  enter_lazy_tlb(k: K<CoreRoutines>, mm: MmId): Routine;
  /** `flush_tlb_mm_range(mm, start, end, ...)`, with `freed_tables` where the generation has it. */
  flush_tlb_mm_range(k: K<CoreRoutines>, mm: MmId, start: number, end: number, freedTables: boolean): Routine;
  /** The call-function IPI handler: run the queued cross-calls, then IRET. */
  call_function_interrupt(k: K<CoreRoutines>, calls: readonly CrossCall[]): Routine;
  /** `flush_tlb_kernel_range()`. */
  flush_tlb_kernel_range?(k: K<CoreRoutines>, start: number, end: number): Routine;
  /** Update per-mm CPU state (PASID) and propagate it. */
  update_mm_pasid?(k: K<CoreRoutines>, mm: MmId, val: number): Routine;
  /** `flush_tlb_range(vma, start, end)` (asm/tlbflush.h), with the vma's mm. */
  flush_tlb_range?(k: K<CoreRoutines>, mm: MmId, start: number, end: number): Routine;
  /** `pmd_free_pte_page(pmd, addr)` (arch/x86/mm/pgtable.c): clear a kernel upper entry and free its leaf table. */
  pmd_free_pte_page?(k: K<CoreRoutines>, pmd: Loc, addr: number): Routine;
  /** `copy_from_user_nmi(to, from, n)` of a user address, as perf's NMI handler calls it (4.20+). */
  copy_from_user_nmi?(k: K<CoreRoutines>, va: number): Routine;
  /** A C variant: call any function of its program by name, arguments by parameter name (a scenario's `call` step). */
  call_c?(k: K<CoreRoutines>, fn: string, args: Readonly<Record<string, Val>>): Routine;
  /** A C variant: run the cross-call `func(info)` (a C function of its program) on the CPU of `k`, as the IPI handler does. */
  cross_call?(k: K<CoreRoutines>, func: string, info: CallData): Routine;
  /** A C variant: whether its program defines `fn` (not a routine). */
  has_c?(fn: string): boolean;
  /**
   * An mm-side entry point of the C (munmap's unmap_region, madvise_dontneed, madvise_free,
   * ...) on `[start, end)` of `mm`, where the variant links the mm side. The harness records
   * a flush of the range as the caller saw it under the page-table lock, counting from the
   * return (the caller's contract: no CPU then uses a translation older than that). `more`: further
   * integer arguments by C parameter name (mremap's `new_addr`).
   */
  mm_call?(k: K<CoreRoutines>, fn: string, mm: MmId, start: number, end: number, more?: Readonly<Record<string, number>>): Routine;
  /** A C variant: evaluate predicate `fn()` on the CPU of `k`, reading the state through `view` only (not a routine). */
  eval_c?(k: K<CoreRoutines>, fn: string, view: InvariantView): PredicateResult;
}

/** What a declared invariant may read: memory as all CPUs agree on it, the machine, the ghost. */
export interface InvariantView {
  /** The committed value of a memory word. */
  read(loc: number): number;
  /** The mm whose root table `cpu`'s CR3 holds (-1 when none). */
  cr3Mm(cpu: number): number;
  /** Whether `cpu`'s TLB holds an entry for `va` under the PCID `mm` runs with now (any PCID when `mm` is -1). */
  tlbHas(cpu: number, mm: number, va: number): boolean;
  /** The mm whose user thread runs on `cpu` (-1 when a kernel thread runs). */
  userMm(cpu: number): number;
  /** Whether a flush of `mm` has begun and not yet returned. */
  flushInFlight(mm: number): boolean;
}

/** A predicate's answer and what it read, for the report. */
export interface PredicateResult {
  readonly value: boolean;
  readonly reads: readonly { readonly loc: number; readonly val: number; readonly what?: string }[];
}

export interface Expectation {
  readonly scenario: string;
  readonly cpus: number;
  readonly features?: Partial<Features>;
  readonly bounds?: Partial<Bounds>;
  /** `inconclusive`: the search is known not to finish within `maxStates`; `reason` says why. */
  readonly verdict: 'holds' | 'violated' | 'inconclusive';
  readonly invariant?: string;
  readonly reason?: string;
  /** Distinct-state budget of the search (the gate's `inconclusive` rows need one). */
  readonly maxStates?: number;
}

export interface Variant<R extends CoreRoutines = CoreRoutines> {
  readonly id: string;
  readonly title: string;
  /** Kernel generation, e.g. `linux-4.13`. */
  readonly generation: string;
  /** Id of the variant this one derives from (none for a base). */
  readonly base?: string;
  readonly kind: 'base' | 'bug' | 'fix' | 'user';
  /** Where it comes from: file, function, commit, seed. */
  readonly source: string;
  readonly features: Features;
  /** Per-CPU fields other CPUs read in this generation; the rest are private. */
  readonly sharedPcpu: ReadonlySet<PcpuField>;
  readonly routines: R;
  readonly expect: readonly Expectation[];
  /** For a bug variant: the variant that fixes it (replays of its counterexamples must pass there). */
  readonly fixedBy?: string;
  /**
   * The features the kernel sees on a machine with `f`, after its boot-time capability
   * fixups (setup_pcid(): common/setup-pcid.ts). Absent: the machine's features unchanged.
   */
  readonly cpuCaps?: (f: Features) => Features;
  /** Invariants the variant declares in its C (`invariant=name:function`), checked on every CPU after every step. */
  readonly invariants?: readonly { readonly name: string; readonly fn: string }[];
  /** State the variant adds: its own per-CPU variables (DEFINE_PER_CPU) and mm_struct fields (`mm-fields=`), all 0 at boot. */
  readonly extraState?: { readonly pcpu: readonly string[]; readonly mm: readonly string[] };
}

export interface Derivation<R extends CoreRoutines> {
  readonly id: string;
  readonly title: string;
  readonly kind?: Variant['kind'];
  readonly source?: string;
  readonly features?: Partial<Features>;
  readonly sharedPcpu?: ReadonlySet<PcpuField>;
  readonly routines?: Partial<R>;
  readonly expect?: readonly Expectation[];
  readonly fixedBy?: string;
}

/** A variant that overrides some routines of `base`. */
export function derive<R extends CoreRoutines>(base: Variant<R>, d: Derivation<R>): Variant<R> {
  const v: Variant<R> = {
    id: d.id,
    title: d.title,
    generation: base.generation,
    base: base.id,
    kind: d.kind ?? 'user',
    source: d.source ?? `derived from ${base.id}`,
    features: { ...base.features, ...d.features },
    sharedPcpu: d.sharedPcpu ?? base.sharedPcpu,
    routines: { ...base.routines, ...d.routines },
    expect: d.expect ?? [],
    ...(base.cpuCaps === undefined ? {} : { cpuCaps: base.cpuCaps }),
    ...(base.invariants ? { invariants: base.invariants } : {}),
    ...(base.extraState ? { extraState: base.extraState } : {}),
  };
  return d.fixedBy === undefined ? v : { ...v, fixedBy: d.fixedBy };
}
