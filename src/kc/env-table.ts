/**
 * The kernel environment of compiled C: every name a kernel function may use without defining
 * it, as one table. Each entry says what it is in the kernel (file and function) and which
 * effect of src/kernel/fx.ts it becomes; data lives where src/kernel/layout.ts puts it. To
 * extend the environment, add one entry here (and, for a new per-CPU or per-mm field, its
 * place in the layout).
 *
 * Simplifications (each safe because the model has no state it could touch):
 * - `smp_wmb/smp_rmb/barrier` are no effect: on x86 they only restrain the compiler, and the
 *   model runs each CPU's program in order. `preempt_disable/enable` and `get_cpu/put_cpu`
 *   maintain the CPU's preempt_count (fx.preemptCount), which decides where a task may be
 *   switched out.
 * - `is_uv_system()` is false: the SGI UV flush path is not modelled.
 * - `cpumask_test_cpu` and `cpumask_any_but` are one load of the mask word each, run as a
 *   call of its own (fx.sub) so that only the answer stays in the caller's history.
 *
 * A file over 300 lines: the table is meant to be read as one list.
 */
import { UserError } from '../errors.ts';
import {
  type K,
  type Routine,
  bit,
  bugOn,
  cpumaskTestCpu,
  invlpg,
  irqDisable,
  irqEnable,
  irqsDisabled,
  preemptCount,
  userCopy,
  access,
  load,
  loadBits,
  lockBtr,
  lockBts,
  readCr3,
  smpMb,
  sendCall,
  store,
  sub,
  warnOn,
  xadd,
  invpcid,
  invlpgb,
  tlbsync,
  writeCr3,
  writePge,
  wrmsrPasid,
  waitUntil,
  cmpxchg,
  xchg,
  freePage,
  reusePage,
  walkLoad,
} from '../kernel/fx.ts';
import { LOADED_MM_SWITCHING, NO_MM, type PcpuField, TLBSTATE_LAZY, TLBSTATE_OK } from '../kernel/layout.ts';
import { type CallFn, type CallSpec, queueAndWait, queued, runCall, smp_call_function_many, smp_call_function_single } from '../kernel/common/smp.ts';
import { NR_DYN_ASIDS, kernPcid } from '../kernel/common/asid.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import type { CallData, CrossCall } from '../machine/effects.ts';
import type { Features } from '../machine/types.ts';
import { ENTRIES, NOT_ACCESSED, NOT_DIRTY, NOT_WRITABLE, PAGE_SHIFT, PAGE_SIZE, entryLoc, entryPfn, entryPresent, hex, leafIndex, upperIndex } from '../machine/types.ts';
import { type SrcSite, type Val, truthy } from './ir.ts';
import { invariantView } from './predicate.ts';

/** What an environment function sees: where it runs, where it was called, and the program. */
export interface EnvCtx {
  readonly k: K<CoreRoutines>;
  readonly site: SrcSite;
  /** Run a C function of the program on the CPU of `k` (cross-call handlers). */
  readonly runC: (k: K<CoreRoutines>, fn: string, args: Val[]) => Routine<Val>;
  /** Write a local through its address (`local_irq_save(flags)`). */
  readonly setLocal: (ref: { readonly f: number; readonly i: number }, v: Val) => void;
  /** Read a local through its address (`pte_offset_map(&pmd, addr)` of a local copy). */
  readonly getLocal: (ref: { readonly f: number; readonly i: number }) => Val;
  /** The address of per-CPU scratch struct number `slot` (PCPU_SCRATCH) for this run. */
  readonly scratch: (slot: number) => Val;
  /** In a function that calls cpu_relax(): the last word it loaded and the value read. */
  readonly lastRead: { loc: number; val: number } | undefined;
  /**
   * In the IPI handler (kernel/smp.c's queue flush): the cross-calls its interrupt entry took
   * off this CPU's call_single_queue, in queue order (`tlbcheck_llist_*`).
   */
  readonly taken?: readonly CrossCall[] | undefined;
  /**
   * Harness bookkeeping of an mm entry point (EntryHooks.ptlDrop), run by pte_unmap_unlock and
   * spin_unlock just before the page-table lock is released: what the caller saw under it.
   */
  readonly ptlDrop?: (() => Routine) | undefined;
}

export interface EnvEntry {
  readonly doc: string;
  /** How many arguments it takes (a list where kernel versions differ, e.g. build_cr3). */
  readonly arity?: number | readonly number[];
  /**
   * The name a later kernel gave this function: where the program defines that one, a call of
   * this name runs it (v4.16's 1299ef1d8870 renamed __flush_tlb_single to __flush_tlb_one_user
   * and __flush_tlb_one to __flush_tlb_one_kernel; an older file calls them by the old names).
   */
  readonly renamedTo?: string;
  /** Arguments are passed as places (`this_cpu_read(cpu_tlbstate.loaded_mm)`), not loaded. */
  readonly places?: boolean;
  /** This argument must name a local, which the entry writes (`local_irq_save(flags)`). */
  readonly lvalueArg?: number;
  readonly run: (x: EnvCtx, args: readonly Val[]) => Routine<Val>;
}

// ------------------------------------------------------------------ data: where things live

/**
 * `mm`: a `struct mm_struct *`; `task-mm`: the same, with the layout's NO_MM read as NULL;
 * `noflush-bit`: a CR3 value of which the model keeps only the NOFLUSH bit (1 = set).
 */
export type PcpuType = 'mm' | 'task-mm' | 'int' | 'noflush-bit';

/** Per-CPU variables and fields: C path -> layout field and its C type. */
export const PCPU: Readonly<Record<string, { readonly field: PcpuField; readonly type: PcpuType }>> = {
  'cpu_tlbstate.loaded_mm': { field: 'loaded_mm', type: 'mm' },
  'cpu_tlbstate.active_mm': { field: 'active_mm', type: 'mm' },
  'cpu_tlbstate.state': { field: 'state', type: 'int' },
  'cpu_tlbstate.is_lazy': { field: 'is_lazy', type: 'int' },
  'cpu_tlbstate_shared.is_lazy': { field: 'is_lazy', type: 'int' },
  'cpu_tlbstate.loaded_mm_asid': { field: 'loaded_mm_asid', type: 'int' },
  'cpu_tlbstate.next_asid': { field: 'next_asid', type: 'int' },
  'cpu_tlbstate.ctxs[0].ctx_id': { field: 'ctx_id0', type: 'int' },
  'cpu_tlbstate.ctxs[0].tlb_gen': { field: 'ctx_gen0', type: 'int' },
  'cpu_tlbstate.ctxs[1].ctx_id': { field: 'ctx_id1', type: 'int' },
  'cpu_tlbstate.ctxs[1].tlb_gen': { field: 'ctx_gen1', type: 'int' },
  'cpu_tlbstate.ctxs[2].ctx_id': { field: 'ctx_id2', type: 'int' },
  'cpu_tlbstate.ctxs[2].tlb_gen': { field: 'ctx_gen2', type: 'int' },
  'cpu_tlbstate.user_pcid_flush_mask': { field: 'user_pcid_flush_mask', type: 'int' },
  'cpu_tlbstate.invalidate_other': { field: 'invalidate_other', type: 'int' },
  // `current` is the task running on this CPU: its mm (NULL for a kernel thread) and active_mm.
  'current.mm': { field: 'cur_mm', type: 'task-mm' },
  'current.active_mm': { field: 'cur_active_mm', type: 'mm' },
  // KAISER (4.4/4.9 stable): the per-cpu user CR3 that SWITCH_USER_CR3 loads.
  x86_cr3_pcid_user: { field: 'kaiser_user_cr3', type: 'noflush-bit' },
};

/**
 * Per-CPU fields the model does not keep: they read as 0 and writes are dropped. Each only
 * decides something outside the model. `last_ctx_id` (4.16-4.20) only decides whether to
 * issue IBPB, which touches no TLB or memory.
 */
const PCPU_IGNORED = new Set(['cpu_tlbstate.last_ctx_id']);

/**
 * Per-CPU scratch structs that only their own CPU writes, reached with `this_cpu_ptr(&name)`:
 * 5.x-6.x tlb.c's `flush_tlb_info` (get_flush_tlb_info fills it, the flush hands it to the
 * other CPUs' handlers and put_flush_tlb_info releases it when the flush has returned).
 * `this_cpu_ptr()` gives a pointer to a struct kept with the running entry call (the flush),
 * which the code fills through the pointer, also in helpers (init_flush_tlb_info). Safe
 * because only its own CPU's flush uses it and the flush is over before the next one starts;
 * the handlers on other CPUs get the struct as it is when the cross-call is sent (their CPU
 * waits), which is what they would read through the pointer.
 */
const PCPU_SCRATCH = ['flush_tlb_info'];

/**
 * Static keys a tlb.c defines, with their value once boot is done (the model starts after
 * boot). `tlb_use_lazy_mode` (4.14-rc tlb.c, kept by some stable backports): defined true,
 * and init_tlb_use_lazy_mode(), a late_initcall that runs before any user task, disables it
 * when the boot CPU has PCID. Its debugfs knob is not modelled.
 */
const STATIC_KEYS: Readonly<Record<string, (f: Features) => boolean>> = {
  tlb_use_lazy_mode: (f) => !f.pcid,
};

function staticKey(x: EnvCtx, v: Val): boolean {
  if (typeof v !== 'object' || v.t !== 'key') throw modelError(x.site, `${x.site.text}: expected the address of a static key the model knows (${Object.keys(STATIC_KEYS).join(', ')})`);
  return STATIC_KEYS[v.name]!(x.k.features);
}

/** Per-CPU variable names (the roots of the paths above). */
const PCPU_ROOTS = new Set([...Object.keys(PCPU).map((p) => p.split('.')[0]!), ...PCPU_SCRATCH]);

export const NR_CPU_IDS = 64;

/** `cpu_online_mask`: every bit set (a mask that is a number is a constant, read without a step). */
const ONLINE = -1;

/** Constants and objects the code names. */
const CONSTANTS: Readonly<Record<string, Val>> = {
  NULL: 0,
  true: 1,
  false: 0,
  init_mm: { t: 'mm', id: 0 },
  /** The kernel's own page tables (init_mm's pgd). */
  swapper_pg_dir: { t: 'pgd', id: 0 },
  /**
   * 64 in the model: an upper bound of every scenario's CPUs. Only compared with what a cpumask
   * search returns, and `cpumask_any_but` returns it when it finds nothing.
   */
  nr_cpu_ids: NR_CPU_IDS,
  /** Every CPU of the model is online: a constant mask (a number; reading it is no step). */
  cpu_online_mask: ONLINE,
  current: { t: 'pcpu', path: 'current' },
  LOADED_MM_SWITCHING: { t: 'mm', id: LOADED_MM_SWITCHING },
  TLBSTATE_OK,
  TLBSTATE_LAZY,
  TLB_FLUSH_ALL: -1,
  /** The top of user space (x86-64, 4-level paging); every scenario address is below it. */
  TASK_SIZE: 0x7ffffffff000,
  /** The model's ASID slots per CPU (6 in the kernel; see src/kernel/common/asid.ts). */
  TLB_NR_DYN_ASIDS: NR_DYN_ASIDS,
  TLB_GENERATION_INVALID: 0,
  GFP_ATOMIC: 0,
  // INVLPGB (6.15+, arch/x86/include/asm/tlb.h): the rAX flag bits and the stride of ECX[31].
  INVLPGB_FLAG_VA: 1,
  INVLPGB_FLAG_PCID: 2,
  INVLPGB_FLAG_ASID: 4,
  INVLPGB_FLAG_INCLUDE_GLOBAL: 8,
  INVLPGB_FLAG_FINAL_ONLY: 16,
  INVLPGB_FLAG_INCLUDE_NESTED: 32,
  INVLPGB_MODE_ALL_NONGLOBALS: 0,
  PTE_STRIDE: 0,
  PMD_STRIDE: 1,
  PMD_SHIFT: 21,
  /** CPUID 0x80000008 EDX[15:0] + 1: pages one INVLPGB may cover (8 on the model's CPUs; enough for every scenario range). */
  invlpgb_count_max: 8,
  // KAISER's CR3 constants (asm/kaiser.h, 4.9 stable); NOFLUSH stands at bit 30, see asType.
  X86_CR3_PCID_ASID_KERN: 0,
  X86_CR3_PCID_ASID_USER: 0x80,
  X86_CR3_PCID_NOFLUSH: 1 << 30,
  X86_CR3_PCID_USER_FLUSH: 0x80,
  X86_CR3_PCID_USER_NOFLUSH: (1 << 30) | 0x80,
  KAISER_SHADOW_PGD_OFFSET: 0x1000,
  X86_CR4_PGE: 0x80,
  MSR_IA32_PASID: 0xd93,
  SUID_DUMP_USER: 1,
  PAGE_SIZE,
  PAGE_SHIFT,
  /** arch/x86/mm/tlb.c `tlb_single_page_flush_ceiling` (default 33, a debugfs knob). */
  tlb_single_page_flush_ceiling: 33,
  VM_HUGETLB: 0x00400000,
  // enum tlb_flush_reason: only passed on to tracing.
  TLB_FLUSH_ON_TASK_SWITCH: 0,
  TLB_REMOTE_SHOOTDOWN: 1,
  TLB_LOCAL_SHOOTDOWN: 2,
  TLB_LOCAL_MM_SHOOTDOWN: 3,
  TLB_REMOTE_SEND_IPI: 4,
  /** include/linux/lockdep.h: a lockdep subclass (no effect in the model). */
  SINGLE_DEPTH_NESTING: 1,
  /** 4.13+ arch/x86/mm/tlb.c: the counter init_new_context() takes each new mm's ctx_id from (only `&last_mm_ctx_id`). */
  last_mm_ctx_id: { t: 'pcpu', path: 'last_mm_ctx_id' },
};

/** A constant of the environment, a per-CPU variable, or a feature bit; undefined if none. */
/** File-level per-CPU definitions (`DEFINE_PER_CPU(int, name);`) of names the model does not keep: a variant's own per-CPU variables. */
export function ownPerCpu(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:static\s+)?DEFINE_PER_CPU(?:_SHARED_ALIGNED|_ALIGNED|_READ_MOSTLY)?\s*\(\s*[^,;]+,\s*(\w+)\s*\)\s*;/gm)) {
    if (!PCPU_ROOTS.has(m[1]!)) out.push(m[1]!);
  }
  return out;
}

export function envConstant(name: string): Val | undefined {
  if (Object.hasOwn(CONSTANTS, name)) return CONSTANTS[name];
  if (PCPU_ROOTS.has(name)) return { t: 'pcpu', path: name };
  if (name.startsWith('X86_FEATURE_')) return { t: 'feat', name };
  if (Object.hasOwn(STATIC_KEYS, name)) return { t: 'key', name };
  return undefined;
}

// ------------------------------------------------------------------ helpers the entries use

export const modelError = (s: SrcSite, msg: string): UserError => new UserError(`${s.file}:${s.line}:${s.col}: ${msg}`);

export const tagOf = (s: SrcSite): string | undefined => s.tag;

function pcpuLoc(x: { readonly k: K<CoreRoutines>; readonly site: SrcSite }, v: Val): { loc: number; type: PcpuType } {
  if (typeof v !== 'object' || v.t !== 'pcpu') throw modelError(x.site, `${x.site.text}: expected a per-CPU variable`);
  const d = PCPU[v.path];
  if (!d) {
    // A per-CPU variable the variant defines itself (DEFINE_PER_CPU in its C): an int.
    const own = x.k.L.findVar(`cpu${v.cpu ?? x.k.cpu}.${v.path}`);
    if (own !== undefined) return { loc: own, type: 'int' };
    throw modelError(x.site, `per-CPU field '${v.path}' is not in the model (env-table.ts PCPU)`);
  }
  return { loc: x.k.L.pcpu(v.cpu ?? x.k.cpu, d.field), type: d.type };
}

const word = (x: EnvCtx, v: Val): number => {
  if (typeof v === 'number') return v;
  if (v.t === 'mm') return v.id;
  throw modelError(x.site, `${x.site.text}: a ${v.t} is not a word`);
};

/**
 * CR3's NOFLUSH is bit 63, which a JavaScript integer operator cannot reach; the model's C
 * uses bit 30 for it (X86_CR3_PCID_NOFLUSH below). No modelled CR3 value uses bit 30.
 */
const X86_CR3_PCID_NOFLUSH = 1 << 30;

const asType = (type: PcpuType, w: number): Val =>
  type === 'int' ? w : type === 'noflush-bit' ? (w ? X86_CR3_PCID_NOFLUSH : 0) : type === 'task-mm' && w === NO_MM ? 0 : { t: 'mm', id: w };

/** The word a per-CPU field keeps for a C value. */
const encode = (x: EnvCtx, type: PcpuType, v: Val): number => (type === 'noflush-bit' ? ((int(x, v) & X86_CR3_PCID_NOFLUSH) !== 0 ? 1 : 0) : word(x, v));

/** The memory word a pointer argument designates (`&mm->context.tlb_gen`, `mm_cpumask(mm)`). */
function memLoc(x: EnvCtx, v: Val): number {
  if (typeof v === 'object' && v.t === 'mem') return v.loc;
  if (typeof v === 'object' && v.t === 'pcpu') {
    const t = taskVarLoc(x.k, x.site, v.path);
    if (t !== undefined) return t;
  }
  throw modelError(x.site, `${x.site.text}: expected a pointer to shared memory (an mm field or mm_cpumask)`);
}

const int = (x: EnvCtx, v: Val): number => {
  if (typeof v === 'number') return v;
  throw modelError(x.site, `${x.site.text}: expected an integer, got a ${v.t}`);
};

const mmId = (x: EnvCtx, v: Val): number => {
  if (typeof v === 'object' && v.t === 'mm') return v.id;
  throw modelError(x.site, `${x.site.text}: expected a struct mm_struct *`);
};

function hasFeature(x: EnvCtx, v: Val): boolean {
  if (typeof v !== 'object' || v.t !== 'feat') throw modelError(x.site, `${x.site.text}: expected an X86_FEATURE_* constant`);
  const f = FEATURES[v.name];
  if (!f) throw modelError(x.site, `${v.name} is not a machine feature of the model (known: ${Object.keys(FEATURES).join(', ')})`);
  return x.k.features[f] === true;
}

const FEATURES: Readonly<Record<string, keyof Features>> = {
  X86_FEATURE_PCID: 'pcid',
  X86_FEATURE_INVPCID: 'invpcid',
  X86_FEATURE_PGE: 'pge',
  X86_FEATURE_PTI: 'pti',
  X86_FEATURE_INVPCID_SINGLE: 'invpcid',
  X86_FEATURE_INVLPGB: 'invlpgb',
};

const X86_CR4_PGE = 0x80;

/** How a queued cross-call is named in the trace and in state identity. */
/** A mask the code holds without a step: a local one (`&cpumask`) or a constant one (`cpu_online_mask`); undefined for a shared one. */
function heldMask(x: EnvCtx, m: Val): number | undefined {
  if (m === ONLINE) return m;
  if (typeof m === 'number') throw modelError(x.site, `${x.site.text}: a mask that is the number ${m} (NULL?): expected mm_cpumask(mm), cpu_online_mask or the address of a local mask`);
  if (typeof m === 'object' && m.t === 'lref') return int(x, x.getLocal(m));
  return undefined;
}

/**
 * The bit of CPU `cpu` of a mask; a CPU the machine does not have is a model error (a loop's
 * nr_cpu_ids, say). Masks are one 32-bit word: the model has at most 8 CPUs.
 */
function cpuBit(x: EnvCtx, cpu: Val): number {
  const c = int(x, cpu);
  if (!(c >= 0 && c < x.k.L.cpus)) throw modelError(x.site, `${x.site.text}: cpu ${c} does not exist (cpus 0..${x.k.L.cpus - 1})`);
  return 2 ** c;
}

/** The first CPU of mask word `w` other than `me`, or nr_cpu_ids (cpumask_any_but and friends). */
function firstOther(w: number, me: number, cpus: number): number {
  for (let c = 0; c < cpus; c++) if (c !== me && bit(w, c)) return c;
  return NR_CPU_IDS;
}

/** A constant mask argument (`cpu_online_mask`). */
function maskWordConst(x: EnvCtx, m: Val): number {
  if (typeof m === 'number') return m;
  throw modelError(x.site, `${x.site.text}: the second mask must be a constant one (cpu_online_mask)`);
}

/** The address of a local mask. */
function localMask(x: EnvCtx, d: Val): { readonly f: number; readonly i: number } {
  if (typeof d === 'object' && d.t === 'lref') return d;
  throw modelError(x.site, `${x.site.text}: the destination must be the address of a local mask (&cpumask); a shared mask is written with cpumask_set_cpu/cpumask_clear_cpu/cpumask_or`);
}

/** The lock word of a csd (`tlbcheck_cfd_csd(cpu)`). */
function csdWord(x: EnvCtx, csd: Val): number {
  if (typeof csd === 'object' && csd.t === 'mem') return csd.loc;
  throw modelError(x.site, `${x.site.text}: expected a csd (tlbcheck_cfd_csd(cpu))`);
}

/**
 * A cross-call of C function `func` with argument `info`, as data (`CallSpec`): the target runs
 * it through the variant's `cross_call`. The argument must be a value the target can hold: the
 * address of one of the sender's locals is not (the model keeps no stack memory to point into).
 */
function callSpec(x: EnvCtx, func: Val, info: Val): CallSpec {
  if (typeof func !== 'object' || func.t !== 'fn') throw modelError(x.site, `${x.site.text}: the function must be defined in the C files`);
  const lref = (v: Val): boolean => typeof v === 'object' && (v.t === 'lref' || (v.t === 'struct' && Object.values(v.f).some(lref)));
  if (lref(info)) throw modelError(x.site, `${x.site.text}: the argument holds the address of a local of the sender; pass the struct itself`);
  return { func: func.name, info };
}

/** The cross-calls the IPI handler's entry took; a model error outside the handler. */
function takenCalls(x: EnvCtx): readonly CrossCall[] {
  if (x.taken) return x.taken;
  throw modelError(x.site, `${x.site.text}: only the IPI handler has a taken call queue (the C entry the engine runs on a call-function IPI)`);
}

function takenCall(x: EnvCtx, i: Val): CrossCall {
  const all = takenCalls(x);
  const c = typeof i === 'number' ? all[i] : undefined;
  if (!c) throw modelError(x.site, `${x.site.text}: entry ${typeof i === 'number' ? i : i.t} of the taken queue, which holds ${all.length}`);
  return c;
}

const none = 0;


function* nothing(): Routine<Val> {
  return none;
}

/**
 * The root table a `build_cr3()` argument names: the mm's pgd (4.15+, `next->pgd`) or, in
 * v4.14's asm/tlbflush.h `build_cr3(struct mm_struct *mm, u16 asid)`, the mm itself.
 */
function cr3Root(x: EnvCtx, v: Val, fn: string): number {
  if (typeof v === 'object' && (v.t === 'pgd' || v.t === 'mm')) return x.k.L.mm(v.id).pgd;
  throw modelError(x.site, `${fn}() of something that is neither an mm nor its pgd`);
}

/** Linear Address Masking (6.4+) is not modelled: a CR3 built with LAM bits is a model error. */
function noLam(x: EnvCtx, lam: Val | undefined): void {
  if (lam !== undefined && int(x, lam) !== 0) throw modelError(x.site, `${x.site.text}: LAM bits in CR3 are not modelled`);
}

function* warn(x: EnvCtx, c: Val): Routine<Val> {
  const t = truthy(c);
  yield* warnOn(t, x.site.text);
  return t ? 1 : 0;
}

/** `__flush_tlb()` and its other names: write CR3 back with its own value. */
function* reloadCr3(x: EnvCtx): Routine<Val> {
  const cr3 = yield* readCr3();
  yield* writeCr3(cr3.root, cr3.pcid, false, tagOf(x.site));
  return none;
}

/** INVLPG of one address, under each name the generations use for it. */
function* invlpgOne(x: EnvCtx, [a]: readonly Val[]): Routine<Val> {
  yield* invlpg(int(x, a!), tagOf(x.site));
  return none;
}

/**
 * `__copy_from_user_inatomic(to, from, n)`: the read goes through the current CR3 on behalf of
 * `current`, whose mm (current->mm, a private per-CPU load) is the owner the invariant
 * `access-through-own-mm` compares with. Only the first page is read (the model's copies
 * are one word); the data is not kept (`to` is not written). A kernel thread (no mm) has no
 * owner to compare with.
 */
function* copyFromUser(x: EnvCtx, [, from, n]: readonly Val[]): Routine<Val> {
  const L = x.k.L;
  const owner = yield* load(L.pcpu(x.k.cpu, 'cur_mm'));
  const va = int(x, from!);
  const r = owner === NO_MM ? yield* access(va, false, tagOf(x.site)) : yield* userCopy(va, owner, tagOf(x.site));
  return r.ok ? 0 : int(x, n!);
}

// ------------------------------------------------------------------ the table

export const ENV: Readonly<Record<string, EnvEntry>> = {
  // ---- where we run (include/linux/smp.h) ----
  smp_processor_id: { doc: 'this CPU', arity: 0, run: function* (x) { return x.k.cpu; } },
  raw_smp_processor_id: { doc: 'this CPU', arity: 0, run: function* (x) { return x.k.cpu; } },
  get_cpu: { doc: 'preempt_disable + smp_processor_id', arity: 0, run: function* (x) { yield* preemptCount(1); return x.k.cpu; } },
  put_cpu: { doc: 'preempt_enable', arity: 0, run: function* () { yield* preemptCount(-1); return none; } },
  preempt_disable: { doc: 'preempt_count_add(1): fx.preemptCount (the scheduler switches the task out only at count 0, IRQs on)', arity: 0, run: function* () { yield* preemptCount(1); return none; } },
  preempt_enable: {
    doc: 'preempt_count_sub(1): fx.preemptCount; where the count reaches 0 the task may be switched out (a preemption point of the explorer)',
    arity: 0,
    run: function* () { yield* preemptCount(-1); return none; },
  },
  preemptible: {
    doc: 'include/linux/preempt.h preemptible(): false. The kernel only asserts with it, in paths that run with preemption or IRQs off',
    arity: 0,
    run: nothing,
  },

  // ---- per-CPU data (include/linux/percpu-defs.h) ----
  this_cpu_read: {
    doc: 'load of this CPU\'s copy: fx.load',
    arity: 1,
    places: true,
    run: function* (x, [p]) {
      if (typeof p === 'object' && p.t === 'pcpu' && PCPU_IGNORED.has(p.path)) return 0;
      // The CR4 shadow: only PGE is modelled, and the machine's features fix it.
      if (typeof p === 'object' && p.t === 'pcpu' && p.path === 'cpu_tlbstate.cr4') return x.k.features.pge ? X86_CR4_PGE : 0;
      const { loc, type } = pcpuLoc(x, p!);
      return asType(type, yield* load(loc, tagOf(x.site)));
    },
  },
  this_cpu_write: {
    doc: 'store to this CPU\'s copy: fx.store',
    arity: 2,
    places: true,
    run: function* (x, [p, v]) {
      if (typeof p === 'object' && p.t === 'pcpu' && PCPU_IGNORED.has(p.path)) return none;
      const { loc, type } = pcpuLoc(x, p!);
      // A value read in place (`next->context.ctx_id`) is read here; other places are no values.
      const val = typeof v === 'object' && v.t === 'mem' && v.what === 'fixed' ? yield* rvalue(x, v) : v!;
      yield* store(loc, encode(x, type, val), tagOf(x.site));
      return none;
    },
  },
  this_cpu_ptr: {
    doc: 'a pointer to this CPU\'s copy of a per-CPU scratch struct (percpu-defs.h this_cpu_ptr; see PCPU_SCRATCH)',
    arity: 1,
    places: true,
    run: function* (x, [p]) {
      const slot = typeof p === 'object' && p.t === 'pcpu' ? PCPU_SCRATCH.indexOf(p.path) : -1;
      if (slot >= 0) return x.scratch(slot);
      throw modelError(x.site, `${x.site.text}: this_cpu_ptr() is modelled only for the per-CPU scratch structs (${PCPU_SCRATCH.join(', ')})`);
    },
  },
  per_cpu: {
    doc: 'another CPU\'s copy: a place; reading it is fx.load',
    arity: 2,
    places: true,
    run: function* (x, [p, cpu]) {
      if (typeof p !== 'object' || p.t !== 'pcpu') throw modelError(x.site, 'per_cpu() of something that is not a per-CPU variable');
      const c = yield* rvalue(x, cpu!);
      return { t: 'pcpu', path: p.path, cpu: int(x, c) };
    },
  },

  // ---- ordering (arch/x86/include/asm/barrier.h) ----
  smp_mb: { doc: 'MFENCE (lock; addl): fx.smpMb', arity: 0, run: function* (x) { yield* smpMb(tagOf(x.site)); return none; } },
  mb: { doc: 'MFENCE: fx.smpMb', arity: 0, run: function* (x) { yield* smpMb(tagOf(x.site)); return none; } },
  smp_wmb: { doc: 'compiler barrier on x86: no effect', arity: 0, run: nothing },
  smp_rmb: { doc: 'compiler barrier on x86: no effect', arity: 0, run: nothing },
  barrier: { doc: 'compiler barrier: no effect', arity: 0, run: nothing },
  smp_mb__after_atomic: { doc: 'no effect on x86 (the atomic was LOCKed)', arity: 0, run: nothing },
  smp_mb__before_atomic: { doc: 'no effect on x86', arity: 0, run: nothing },
  READ_ONCE: { doc: 'one load: fx.load', arity: 1, places: true, run: (x, [p]) => rvalue(x, p!) },
  WRITE_ONCE: {
    doc: 'one store: fx.store',
    arity: 2,
    places: true,
    run: function* (x, [p, v]) {
      const val = word(x, yield* rvalue(x, v!));
      if (typeof p === 'object' && p.t === 'pcpu') yield* store(pcpuLoc(x, p).loc, val, tagOf(x.site));
      else yield* store(memLoc(x, p!), val, tagOf(x.site));
      return none;
    },
  },
  smp_load_acquire: { doc: 'a plain load on x86 (TSO)', arity: 1, run: function* (x, [p]) { return yield* load(memLoc(x, p!), tagOf(x.site)); } },
  smp_store_release: {
    doc: 'a plain store on x86 (TSO)',
    arity: 2,
    run: function* (x, [p, v]) {
      yield* store(memLoc(x, p!), word(x, v!), tagOf(x.site));
      return none;
    },
  },
  likely: { doc: 'branch hint', arity: 1, run: function* (_x, [v]) { return v!; } },
  unlikely: { doc: 'branch hint', arity: 1, run: function* (_x, [v]) { return v!; } },

  // ---- atomics (arch/x86/include/asm/atomic64_64.h) ----
  atomic64_read: { doc: 'a plain load', arity: 1, run: function* (x, [p]) { return yield* load(memLoc(x, p!), tagOf(x.site)); } },
  atomic64_set: {
    doc: 'a plain store',
    arity: 2,
    run: function* (x, [p, v]) {
      yield* store(memLoc(x, p!), int(x, v!), tagOf(x.site));
      return none;
    },
  },
  atomic64_inc_return: {
    doc: 'LOCK XADD: fx.xadd, returns the new value',
    arity: 1,
    run: function* (x, [p]) {
      return (yield* xadd(memLoc(x, p!), 1, tagOf(x.site))) + 1;
    },
  },

  this_cpu_add_return: {
    doc: 'load and store of this CPU\'s copy (no other CPU writes it): returns the new value',
    arity: 2,
    places: true,
    run: function* (x, [p, n]) {
      const { loc } = pcpuLoc(x, p!);
      const add = int(x, yield* rvalue(x, n!));
      const v = (yield* load(loc, tagOf(x.site))) + add;
      yield* store(loc, v, tagOf(x.site));
      return v;
    },
  },

  // ---- mm (include/linux/mm_types.h) ----
  mm_cpumask: {
    doc: 'the mm\'s cpumask word',
    arity: 1,
    run: function* (x, [mm]) {
      return { t: 'mem', loc: x.k.L.cpumask(mmId(x, mm!)), what: 'mask' };
    },
  },

  // ---- cpumasks (include/linux/cpumask.h) ----
  cpumask_set_cpu: {
    doc: 'LOCK BTS: fx.lockBts',
    arity: 2,
    run: function* (x, [cpu, m]) {
      yield* lockBts(memLoc(x, m!), int(x, cpu!), tagOf(x.site));
      return none;
    },
  },
  cpumask_clear_cpu: {
    doc: 'LOCK BTR: fx.lockBtr',
    arity: 2,
    run: function* (x, [cpu, m]) {
      yield* lockBtr(memLoc(x, m!), int(x, cpu!), tagOf(x.site));
      return none;
    },
  },
  cpumask_test_cpu: {
    doc: 'one load of the mask word, only the bit kept: fx.cpumaskTestCpu (of a local or constant mask: no step)',
    arity: 2,
    run: function* (x, [cpu, m]) {
      const held = heldMask(x, m!);
      if (held !== undefined) return (held & cpuBit(x, cpu!)) !== 0 ? 1 : 0;
      return (yield* cpumaskTestCpu(memLoc(x, m!), int(x, cpu!), tagOf(x.site))) ? 1 : 0;
    },
  },
  cpu_relax: {
    doc:
      'the pause of a spin loop: the CPU waits until the word the loop last read (in the same ' +
      'function) changes. Iterations that re-read an unchanged value are stutter steps, so a ' +
      'spin that nothing can end is a blocked CPU (no-deadlock), not an endless execution',
    arity: 0,
    run: function* (x) {
      const r = x.lastRead;
      if (!r) throw modelError(x.site, 'cpu_relax() with no memory read before it in this function: not a spin loop the model can wait on');
      const { loc, val } = r;
      yield* waitUntil(loc, (v) => v !== val, `a change of ${x.k.L.nameOf(loc)} from ${val}`, tagOf(x.site));
      return none;
    },
  },
  cpumask_empty: {
    doc: 'one load of the mask word: no bit set',
    arity: 1,
    run: function* (x, [m]) {
      return (yield* load(memLoc(x, m!), tagOf(x.site))) === 0 ? 1 : 0;
    },
  },
  cpumask_any_but: {
    doc: 'one load; the first other CPU set, or nr_cpu_ids (run as fx.sub)',
    arity: 2,
    run: function* (x, [m, cpu]) {
      const loc = memLoc(x, m!);
      const me = int(x, cpu!);
      return yield* sub('cpumask_any_but', function* () {
        return firstOther(yield* load(loc, tagOf(x.site)), me, x.k.L.cpus);
      });
    },
  },

  // ---- CR3, INVLPG (arch/x86/include/asm/tlbflush.h, special_insns.h) ----
  load_cr3: {
    doc: 'MOV to CR3 of the mm\'s root, PCID 0, flushing: fx.writeCr3',
    arity: 1,
    run: function* (x, [pgd]) {
      if (typeof pgd !== 'object' || pgd.t !== 'pgd') throw modelError(x.site, 'load_cr3() of something that is not an mm\'s pgd');
      yield* writeCr3(x.k.L.mm(pgd.id).pgd, 0, false, tagOf(x.site));
      return none;
    },
  },
  __flush_tlb: {
    doc: 'native___flush_tlb: write CR3 back with its own value (fx.readCr3 + fx.writeCr3)',
    arity: 0,
    run: reloadCr3,
  },
  local_flush_tlb: {
    doc: '__flush_tlb(): write CR3 back with its own value',
    arity: 0,
    run: reloadCr3,
  },
  __flush_tlb_single: {
    doc: 'INVLPG of one address: fx.invlpg; the program\'s __flush_tlb_one_user where it has one (the 4.15 PTI __native_flush_tlb_single, renamed in 4.16)',
    arity: 1,
    renamedTo: '__flush_tlb_one_user',
    run: invlpgOne,
  },
  __flush_tlb_one: {
    doc: 'flush one kernel address (asm/tlbflush.h up to 4.15): INVLPG; the program\'s __flush_tlb_one_kernel where it has one (with PTI it also invalidates the other ASIDs; renamed in 4.16)',
    arity: 1,
    renamedTo: '__flush_tlb_one_kernel',
    run: invlpgOne,
  },
  build_cr3: {
    doc: 'CR3 value: the mm\'s root (from its pgd, or in v4.14 from the mm) with kern_pcid(asid) (asid + 1 with PCID, else 0); 6.4+ takes the LAM bits third (arch/x86/mm/tlb.c build_cr3), which must be 0 (LAM is not modelled)',
    arity: [2, 3],
    run: function* (x, [pgd, asid, lam]) {
      noLam(x, lam);
      return { t: 'cr3', root: cr3Root(x, pgd!, 'build_cr3'), pcid: kernPcid(x.k.features.pcid, int(x, asid!)), noflush: false };
    },
  },
  build_cr3_noflush: {
    doc: 'build_cr3 with CR3_NOFLUSH (only with PCID); the 6.4+ LAM argument must be 0',
    arity: [2, 3],
    run: function* (x, [pgd, asid, lam]) {
      noLam(x, lam);
      if (!x.k.features.pcid) throw modelError(x.site, 'build_cr3_noflush() without X86_FEATURE_PCID (the kernel warns: VM_WARN_ON_ONCE)');
      return { t: 'cr3', root: cr3Root(x, pgd!, 'build_cr3_noflush'), pcid: kernPcid(true, int(x, asid!)), noflush: true };
    },
  },
  write_cr3: {
    doc: 'MOV to CR3: fx.writeCr3',
    arity: 1,
    run: function* (x, [v]) {
      if (typeof v !== 'object' || v.t !== 'cr3') throw modelError(x.site, 'write_cr3() of a value not made by build_cr3()/build_cr3_noflush()');
      yield* writeCr3(v.root, v.pcid, v.noflush, tagOf(x.site));
      return none;
    },
  },
  native_write_cr3: {
    doc: 'MOV to CR3: fx.writeCr3',
    arity: 1,
    run: function* (x, [v]) {
      if (typeof v !== 'object' || v.t !== 'cr3') throw modelError(x.site, 'native_write_cr3() of a value not made by build_cr3() or __native_read_cr3()');
      yield* writeCr3(v.root, v.pcid, v.noflush, tagOf(x.site));
      return none;
    },
  },
  native_read_cr3: {
    doc: 'MOV from CR3 (4.4-4.12 name): fx.readCr3',
    arity: 0,
    run: function* () {
      const c = yield* readCr3();
      return { t: 'cr3', root: c.root, pcid: c.pcid, noflush: false };
    },
  },
  __pa: {
    doc: 'the physical address of an mm\'s pgd: a CR3 value with PCID 0',
    arity: 1,
    run: function* (x, [pgd]) {
      if (typeof pgd !== 'object' || pgd.t !== 'pgd') throw modelError(x.site, '__pa() of something that is not an mm\'s pgd');
      return { t: 'cr3', root: x.k.L.mm(pgd.id).pgd, pcid: 0, noflush: false };
    },
  },
  __native_read_cr3: {
    doc: 'MOV from CR3: fx.readCr3 (a value read from CR3 never has NOFLUSH set)',
    arity: 0,
    run: function* () {
      const c = yield* readCr3();
      return { t: 'cr3', root: c.root, pcid: c.pcid, noflush: false };
    },
  },
  native_write_cr4: {
    doc: 'MOV to CR4: only CR4.PGE is modelled (fx.writePge)',
    arity: 1,
    run: function* (x, [v]) {
      yield* writePge((int(x, v!) & X86_CR4_PGE) !== 0, tagOf(x.site));
      return none;
    },
  },
  __invlpg: {
    doc: 'INVLPG: fx.invlpg',
    arity: 1,
    run: invlpgOne,
  },
  invpcid_flush_one: {
    doc: 'INVPCID type 0 (one address in one PCID): fx.invpcid',
    arity: 2,
    run: function* (x, [pcid, a]) {
      yield* invpcid(0, int(x, pcid!), int(x, a!), tagOf(x.site));
      return none;
    },
  },
  invpcid_flush_single_context: {
    doc: 'INVPCID type 1 (one PCID): fx.invpcid',
    arity: 1,
    run: function* (x, [pcid]) {
      yield* invpcid(1, int(x, pcid!), 0, tagOf(x.site));
      return none;
    },
  },
  invpcid_flush_all: {
    doc: 'INVPCID type 2 (everything, globals too): fx.invpcid',
    arity: 0,
    run: function* (x) {
      yield* invpcid(2, 0, 0, tagOf(x.site));
      return none;
    },
  },
  invpcid_flush_all_nonglobals: {
    doc: 'INVPCID type 3: fx.invpcid',
    arity: 0,
    run: function* (x) {
      yield* invpcid(3, 0, 0, tagOf(x.site));
      return none;
    },
  },
  kern_pcid: {
    doc: 'asm/tlbflush.h (4.15+): the kernel PCID of an ASID, asid + 1 (0 without PCID)',
    arity: 1,
    run: function* (x, [asid]) {
      return kernPcid(x.k.features.pcid, int(x, asid!));
    },
  },
  user_pcid: {
    doc: 'asm/tlbflush.h (4.15+): kern_pcid | 1 << X86_CR3_PTI_PCID_USER_BIT (bit 11)',
    arity: 1,
    run: function* (x, [asid]) {
      return kernPcid(x.k.features.pcid, int(x, asid!)) | (1 << 11);
    },
  },
  smp_call_function: {
    doc: 'kernel/smp.c: smp_call_function_many(cpu_online_mask, ...); every CPU is online, so the mask is no shared read',
    arity: 3,
    run: function* (x, [func, info, wait]) {
      const spec = callSpec(x, func!, info!);
      if (!truthy(wait!)) throw modelError(x.site, 'smp_call_function(..., wait=0) is not supported (the model waits)');
      yield* warnOn(yield* irqsDisabled(), 'smp_call_function with IRQs off');
      const others: number[] = [];
      for (let c = 0; c < x.k.L.cpus; c++) if (c !== x.k.cpu) others.push(c);
      if (others.length === 1) yield* smp_call_function_single(x.k, others[0]!, spec);
      else if (others.length > 1) yield* queueAndWait(x.k, others, spec);
      return none;
    },
  },
  flush_tlb_local: {
    doc: '__flush_tlb(): write CR3 back with its own value',
    arity: 0,
    run: reloadCr3,
  },
  __flush_tlb_one_user: {
    doc: 'INVLPG of one user address (4.15-4.20 name; no PTI user ASID where it is used here)',
    arity: 1,
    run: invlpgOne,
  },
  flush_tlb_one_user: {
    doc: 'INVLPG of one user address (no PTI user ASID in the generations that use it here)',
    arity: 1,
    run: invlpgOne,
  },
  invalidate_user_asid: {
    doc: 'asm/tlbflush.h (4.15+): with PTI and PCID, note in user_pcid_flush_mask that the user ASID must be flushed on return to user',
    arity: 1,
    run: function* (x, [asid]) {
      if (!x.k.features.pti || !x.k.features.pcid) return none;
      const loc = x.k.L.pcpu(x.k.cpu, 'user_pcid_flush_mask');
      const w = yield* load(loc, tagOf(x.site));
      yield* store(loc, w | (1 << kernPcid(true, int(x, asid!))), tagOf(x.site));
      return none;
    },
  },
  uv_flush_tlb_others: {
    doc: 'the SGI UV flush: not modelled; unreachable because is_uv_system() is false',
    arity: 2,
    run: function* (x) {
      throw modelError(x.site, 'uv_flush_tlb_others(): the SGI UV flush path is not modelled');
    },
  },
  wrmsrl: {
    doc: 'WRMSR: only MSR_IA32_PASID is modelled (fx.wrmsrPasid)',
    arity: 2,
    run: function* (x, [msr, v]) {
      if (msr !== 0xd93) throw modelError(x.site, `wrmsrl(${String(msr)}, ...): only MSR_IA32_PASID is modelled`);
      yield* wrmsrPasid(int(x, v!), tagOf(x.site));
      return none;
    },
  },
  get_dumpable: {
    doc: 'mm->flags dumpability, for IBPB only: tasks are not modelled (the model passes tsk = NULL), so it is never reached',
    arity: 1,
    run: function* (x) {
      throw modelError(x.site, 'get_dumpable(): task_struct is not modelled');
    },
  },
  indirect_branch_prediction_barrier: { doc: 'IBPB: no effect on TLBs or memory', arity: 0, run: nothing },
  // ---- Linear Address Masking (arch/x86/include/asm/mmu_context.h, 6.4+): not modelled ----
  mm_lam_cr3_mask: { doc: 'the mm\'s LAM bits for CR3: 0, no modelled mm enables LAM (mmu_context.h mm_lam_cr3_mask)', arity: 1, run: nothing },
  mm_untag_mask: { doc: 'the mm\'s untag mask: all ones without LAM (mmu_context.h mm_untag_mask); only stored by cpu_tlbstate_update_lam', arity: 1, run: function* () { return -1; } },
  cpu_tlbstate_update_lam: { doc: 'records the LAM mask in cpu_tlbstate (tlbflush.h): no effect, LAM is not modelled', arity: 2, run: nothing },
  is_dyn_asid: { doc: 'asm/tlbflush.h (6.15+) is_dyn_asid(): asid < TLB_NR_DYN_ASIDS (the model\'s slots)', arity: 1, run: function* (x, [a]) { return int(x, a!) < NR_DYN_ASIDS ? 1 : 0; } },
  is_global_asid: { doc: 'asm/tlbflush.h (6.15+) is_global_asid(): !is_dyn_asid(asid); never true here, no mm gets a global ASID', arity: 1, run: function* (x, [a]) { return int(x, a!) >= NR_DYN_ASIDS ? 1 : 0; } },
  // mm_global_asid() and mm_in_asid_transition() (asm/tlbflush.h, 6.15+) are C in the
  // generations that use INVLPGB; for the others they are 0 (no global ASIDs).
  mm_global_asid: { doc: '0: no global ASIDs in this generation (6.18 defines it in C)', arity: 1, run: nothing },
  mm_in_asid_transition: { doc: 'false: no global ASIDs in this generation (6.18 defines it in C)', arity: 1, run: nothing },
  __invlpgb: {
    doc: 'INVLPGB (asm/tlb.h __invlpgb(asid, pcid, addr, nr_pages, stride, flags)): fx.invlpgb; the PMD stride is not modelled (every range is in pages)',
    arity: 6,
    run: function* (x, [asid, pcid, addr, nr, stride, flags]) {
      const f = int(x, flags!);
      if (int(x, stride!) !== 0) throw modelError(x.site, '__invlpgb with a PMD stride: the model has no huge pages');
      yield* invlpgb(
        {
          va: f & 1 ? int(x, addr!) : null,
          nr: int(x, nr!),
          pcid: f & 2 ? int(x, pcid!) : null,
          asid: f & 4 ? int(x, asid!) : null,
          global: (f & 8) !== 0,
          finalOnly: (f & 16) !== 0,
        },
        tagOf(x.site),
      );
      return none;
    },
  },
  __tlbsync: { doc: 'TLBSYNC (asm/tlb.h __tlbsync): fx.tlbsync', arity: 0, run: function* (x) { yield* tlbsync(tagOf(x.site)); return none; } },
  cpumask_next: {
    doc: 'one load that keeps the bits above n (its event says so); the next CPU set after n, or nr_cpu_ids (run as fx.sub): the step of for_each_cpu(). Of a local mask (&cpumask) or a constant one: no step',
    arity: 2,
    run: function* (x, [n, m]) {
      const from = int(x, n!);
      if (from < -1) throw modelError(x.site, `${x.site.text}: cpumask_next() after cpu ${from} (the first step starts at -1)`);
      const cpus = x.k.L.cpus;
      const held = heldMask(x, m!);
      if (held !== undefined) {
        for (let c = from + 1; c < cpus; c++) if (bit(held, c)) return c;
        return NR_CPU_IDS;
      }
      const loc = memLoc(x, m!);
      // The bits it may look at: the CPUs above n (its event says so; the answer depends only on
      // those up to the CPU it finds, which is not known before the load).
      let above = 0;
      for (let c = Math.max(from + 1, 0); c < cpus; c++) above += 2 ** c;
      return yield* sub('cpumask_next', function* () {
        const w = yield* loadBits(loc, above, tagOf(x.site));
        for (let c = from + 1; c < cpus; c++) if (bit(w, c)) return c;
        return NR_CPU_IDS;
      });
    },
  },
  should_trim_cpumask: {
    doc: 'false: jiffies-based, at most once a second per mm; a C definition of it replaces this one',
    arity: 1,
    run: nothing,
  },
  static_branch_likely: { doc: 'include/linux/jump_label.h: the static key\'s value after boot (STATIC_KEYS)', arity: 1, run: function* (x, [p]) { return staticKey(x, p!) ? 1 : 0; } },
  static_branch_unlikely: { doc: 'include/linux/jump_label.h: the static key\'s value after boot (STATIC_KEYS)', arity: 1, run: function* (x, [p]) { return staticKey(x, p!) ? 1 : 0; } },
  static_cpu_has: { doc: 'a machine feature (--features)', arity: 1, run: function* (x, [f]) { return hasFeature(x, f!) ? 1 : 0; } },
  boot_cpu_has: { doc: 'a machine feature (--features)', arity: 1, run: function* (x, [f]) { return hasFeature(x, f!) ? 1 : 0; } },
  cpu_feature_enabled: { doc: 'a machine feature (--features)', arity: 1, run: function* (x, [f]) { return hasFeature(x, f!) ? 1 : 0; } },
  this_cpu_has: { doc: 'a machine feature (--features)', arity: 1, run: function* (x, [f]) { return hasFeature(x, f!) ? 1 : 0; } },
  is_uv_system: { doc: 'false: the SGI UV flush path is not modelled', arity: 0, run: nothing },

  // ---- user memory from the kernel (arch/x86/include/asm/uaccess.h, arch/x86/lib/usercopy.c) ----
  __range_not_ok: {
    doc: 'uaccess.h (4.20): whether [addr, addr+size) goes past the limit; the model\'s addresses are user addresses',
    arity: 3,
    run: function* (x, [a, n, limit]) { return int(x, a!) + int(x, n!) > int(x, limit!) ? 1 : 0; },
  },
  __access_ok: {
    doc: 'uaccess_64.h (6.x): whether [addr, addr+size) is a user range',
    arity: 2,
    run: function* (x, [a, n]) { return int(x, a!) + int(x, n!) <= 0x7ffffffff000 ? 1 : 0; },
  },
  __copy_from_user_inatomic: {
    doc: 'a kernel read of user memory with page faults disabled (4.20): fx.userCopy of the first page, on behalf of current (its mm is current->mm); returns the bytes not copied',
    arity: 3,
    run: copyFromUser,
  },
  raw_copy_from_user: {
    doc: 'a kernel read of user memory (6.x): fx.userCopy as __copy_from_user_inatomic',
    arity: 3,
    run: copyFromUser,
  },

  // ---- interrupts (include/linux/irqflags.h) ----
  // ---- read-only accessors for declared invariants (kc/predicate.ts); not kernel functions ----
  tlbcheck_cr3_mm: {
    doc: "a declared invariant's view of the machine: the mm whose root table CPU `cpu`'s CR3 holds (an mm pointer; NULL when none)",
    arity: 1,
    run: function* (x, [cpu]) {
      const { view, note } = invariantView('tlbcheck_cr3_mm()');
      const c = int(x, cpu!);
      const mm = view.cr3Mm(c);
      note(`cr3 of cpu${c} holds ${mm < 0 ? 'no mm' : x.k.L.mmName(mm)}`, mm);
      return mm < 0 ? 0 : { t: 'mm', id: mm };
    },
  },
  tlbcheck_user_mm: {
    doc: "a declared invariant's view of the ghost: the mm whose user thread runs on CPU `cpu` (its context_switch() finished), NULL when a kernel thread runs",
    arity: 1,
    run: function* (x, [cpu]) {
      const { view, note } = invariantView('tlbcheck_user_mm()');
      const c = int(x, cpu!);
      const mm = view.userMm(c);
      note(`a user thread of ${mm < 0 ? 'no mm' : x.k.L.mmName(mm)} runs on cpu${c}`, mm);
      return mm < 0 ? 0 : { t: 'mm', id: mm };
    },
  },
  tlbcheck_tlb_has: {
    doc: "a declared invariant's view of the machine: whether CPU `cpu`'s TLB holds an entry for `va` of `mm` under the PCID it runs now",
    arity: 3,
    run: function* (x, [cpu, mm, va]) {
      const { view, note } = invariantView('tlbcheck_tlb_has()');
      const c = int(x, cpu!);
      const id = mmId(x, mm!);
      const has = view.tlbHas(c, id, int(x, va!));
      note(`cpu${c}'s TLB ${has ? 'holds' : 'holds no'} entry for ${hex(int(x, va!))} of ${x.k.L.mmName(id)}`, has ? 1 : 0);
      return has ? 1 : 0;
    },
  },
  tlbcheck_flush_in_flight: {
    doc: "a declared invariant's view of the ghost: whether a flush of `mm` has begun and not yet returned",
    arity: 1,
    run: function* (x, [mm]) {
      const { view, note } = invariantView('tlbcheck_flush_in_flight()');
      const id = mmId(x, mm!);
      const on = view.flushInFlight(id);
      note(`a flush of ${x.k.L.mmName(id)} is ${on ? '' : 'not '}in flight`, on ? 1 : 0);
      return on ? 1 : 0;
    },
  },
  // ---- page tables and their freeing (mm/memory.c, mm/mmu_gather.c; used by common/mm.c) ----
  pmd_clear: {
    doc: 'arch/x86/include/asm/pgtable.h pmd_clear(): one store of 0 to the upper entry (native_pmd_clear); takes a pmd_t * or, from a scenario, the entry\'s location',
    arity: 1,
    run: function* (x, [p]) {
      yield* store(typeof p === 'number' ? p : entryWord(x, p!), 0, tagOf(x.site));
      return none;
    },
  },
  tlb_flush_range: {
    doc: "asm/tlb.h tlb_flush(): flush_tlb_mm_range() of the program for [start, end) with freed_tables (the bridge matches each generation's parameters and adds the ghost flush bookkeeping)",
    arity: 4,
    run: function* (x, [mm, start, end, freed]) {
      yield* x.k.r.flush_tlb_mm_range(x.k, mmId(x, mm!), int(x, start!), int(x, end!), truthy(freed!));
      return none;
    },
  },
  tlb_remove_table_free: {
    doc: 'mm/mmu_gather.c: the batched table page freed after the flush (tlb_flush_mmu_free): the ghost marks the page free',
    arity: 1,
    run: function* (x, [pfn]) {
      yield* freePage(int(x, pfn!), tagOf(x.site));
      return none;
    },
  },
  tlbcheck_reuse_page: {
    doc: 'not kernel code: the page allocator hands the freed page out again at once, filled with `fill` (the scenario\'s worst case)',
    arity: 2,
    run: function* (x, [pfn, fill]) {
      yield* reusePage(int(x, pfn!), int(x, fill!), tagOf(x.site));
      return none;
    },
  },
  local_irq_disable: { doc: 'CLI: fx.irqDisable', arity: 0, run: function* (x) { yield* irqDisable(tagOf(x.site)); return none; } },
  local_irq_enable: { doc: 'STI: fx.irqEnable', arity: 0, run: function* (x) { yield* irqEnable(tagOf(x.site)); return none; } },
  irqs_disabled: { doc: 'read of IF: fx.irqsDisabled', arity: 0, run: function* () { return (yield* irqsDisabled()) ? 1 : 0; } },
  local_irq_save: {
    doc: 'flags = IF; CLI when it was set',
    arity: 1,
    lvalueArg: 0,
    run: function* (x, [ref]) {
      const off = yield* irqsDisabled();
      if (!off) yield* irqDisable('local_irq_save');
      if (typeof ref === 'object' && ref.t === 'lref') x.setLocal(ref, off ? 0 : 1);
      return none;
    },
  },
  raw_local_irq_save: {
    doc: 'local_irq_save without lockdep',
    arity: 1,
    lvalueArg: 0,
    run: function* (x, [ref]) {
      const off = yield* irqsDisabled();
      if (!off) yield* irqDisable('raw_local_irq_save');
      if (typeof ref === 'object' && ref.t === 'lref') x.setLocal(ref, off ? 0 : 1);
      return none;
    },
  },
  raw_local_irq_restore: {
    doc: 'local_irq_restore without lockdep',
    arity: 1,
    run: function* (x, [flags]) {
      if (truthy(flags!)) yield* irqEnable('raw_local_irq_restore');
      return none;
    },
  },
  local_irq_restore: {
    doc: 'STI when flags say IF was set',
    arity: 1,
    run: function* (x, [flags]) {
      if (truthy(flags!)) yield* irqEnable('local_irq_restore');
      return none;
    },
  },

  // ---- assertions (include/asm-generic/bug.h, include/linux/mmdebug.h): the kernel-assertion invariant ----
  WARN_ON: { doc: 'fx.warnOn; returns the condition', arity: 1, run: (x, [c]) => warn(x, c!) },
  WARN_ON_ONCE: { doc: 'fx.warnOn; returns the condition', arity: 1, run: (x, [c]) => warn(x, c!) },
  VM_WARN_ON: { doc: 'fx.warnOn (CONFIG_DEBUG_VM is on in the model)', arity: 1, run: (x, [c]) => warn(x, c!) },
  VM_WARN_ON_ONCE: { doc: 'fx.warnOn (CONFIG_DEBUG_VM is on in the model)', arity: 1, run: (x, [c]) => warn(x, c!) },
  BUG_ON: {
    doc: 'fx.bugOn',
    arity: 1,
    run: function* (x, [c]) {
      yield* bugOn(truthy(c!), x.site.text);
      return none;
    },
  },
  BUG: {
    doc: 'fx.bugOn(true)',
    arity: 0,
    run: function* (x) {
      yield* bugOn(true, x.site.text);
      return none;
    },
  },
  VM_BUG_ON: {
    doc: 'fx.bugOn',
    arity: 1,
    run: function* (x, [c]) {
      yield* bugOn(truthy(c!), x.site.text);
      return none;
    },
  },

  // ---- cross-calls (kernel/smp.c): the TypeScript plumbing of src/kernel/common/smp.ts ----
  smp_call_function_many: {
    doc: 'queue func(info) on every other CPU of the mask, wait for all: common/smp.ts',
    arity: 4,
    run: function* (x, [m, func, info, wait]) {
      const spec = callSpec(x, func!, info!);
      if (!truthy(wait!)) throw modelError(x.site, 'smp_call_function_many(..., wait=0) is not supported (the model waits)');
      yield* smp_call_function_many(x.k, memLoc(x, m!), spec);
      return none;
    },
  },
  on_each_cpu_cond_mask: {
    doc: 'kernel/smp.c\'s C: link common/smp-cond-4.19-4.20.c (the 6-argument form of 4.19-5.x) or linux-6.18/smp.c (the 5-argument form of 6.x)',
    run: function* (x) {
      throw modelError(x.site, `${x.site.text}: on_each_cpu_cond_mask() is kernel/smp.c's C: link common/smp-cond-4.19-4.20.c (4.19-5.x) or linux-6.18/smp.c (6.x); a patch over linux-4.20 or linux-6.18 has it`);
    },
  },
  on_each_cpu_mask: {
    doc: 'kernel/smp.c\'s C: link common/smp-cond-4.19-4.20.c (4.x) or linux-6.18/smp.c (6.x), or define it (as pasid/proposal.c does for 5.8)',
    arity: 4,
    run: function* (x) {
      throw modelError(x.site, `${x.site.text}: on_each_cpu_mask() is kernel/smp.c's C: link common/smp-cond-4.19-4.20.c (4.x) or linux-6.18/smp.c (6.x); a patch over linux-4.20 or linux-6.18 has it, or define it`);
    },
  },
  // ---- under kernel/smp.c of 6.x written in C (linux-6.18/smp.c) ----
  cpumask_any_and_but: {
    doc: 'cpumask.h: one load of the first mask (none for a constant one), AND the second; the first CPU set other than cpu, or nr_cpu_ids (run as fx.sub)',
    arity: 3,
    run: function* (x, [m, and, cpu]) {
      cpuBit(x, cpu!);
      const me = int(x, cpu!);
      const also = maskWordConst(x, and!);
      const held = heldMask(x, m!);
      if (held !== undefined) return firstOther(held & also, me, x.k.L.cpus);
      const loc = memLoc(x, m!);
      return yield* sub('cpumask_any_and_but', function* () {
        return firstOther((yield* load(loc, tagOf(x.site))) & also, me, x.k.L.cpus);
      });
    },
  },
  cpumask_and: {
    doc: 'cpumask.h cpumask_and(dst, a, b) into a local mask (&cpumask): one load of each shared mask (a constant one: none); returns whether dst is not empty',
    arity: 3,
    run: function* (x, [d, a, b]) {
      const dst = localMask(x, d!);
      let w = -1;
      for (const m of [a!, b!]) w &= heldMask(x, m) ?? (yield* load(memLoc(x, m), tagOf(x.site)));
      x.setLocal(dst, w);
      return w === 0 ? 0 : 1;
    },
  },
  __cpumask_clear_cpu: {
    doc: 'cpumask.h: clear a bit of a local mask (&cpumask): no step',
    arity: 2,
    run: function* (x, [cpu, d]) {
      const dst = localMask(x, d!);
      x.setLocal(dst, int(x, x.getLocal(dst)) & ~cpuBit(x, cpu!));
      return none;
    },
  },
  __cpumask_set_cpu: {
    doc: 'cpumask.h: set a bit of a local mask (&cpumask): no step',
    arity: 2,
    run: function* (x, [cpu, d]) {
      const dst = localMask(x, d!);
      x.setLocal(dst, int(x, x.getLocal(dst)) | cpuBit(x, cpu!));
      return none;
    },
  },
  tlbcheck_cfd_csd: {
    doc: 'per_cpu_ptr(this_cpu_ptr(&cfd_data)->csd, cpu): this CPU\'s csd for cross-calls to cpu; *csd is its lock word (node.u_flags)',
    arity: 1,
    run: function* (x, [cpu]) {
      return { t: 'mem', loc: x.k.L.csd(x.k.cpu, int(x, cpu!)), what: 'ptr' };
    },
  },
  csd_lock_wait: {
    doc: 'kernel/smp.c: smp_cond_load_acquire(&csd->node.u_flags, !(VAL & CSD_FLAG_LOCK)): one step that waits until the lock word reads 0 (a load, and loads are acquire on x86)',
    arity: 1,
    run: function* (x, [csd]) {
      const loc = csdWord(x, csd!);
      const is = x.k.L.locInfo(loc);
      const what = is.kind === 'csd' ? `cpu${is.target} ran the call queued on ${x.k.L.nameOf(loc)}` : `${x.k.L.nameOf(loc)} unlocked`;
      yield* waitUntil(loc, (v) => v === 0, what, tagOf(x.site));
      return none;
    },
  },
  tlbcheck_csd_queue: {
    doc:
      'kernel/smp.c: csd->func = func; csd->info = info; llist_add(&csd->node.llist, &per_cpu(call_single_queue, cpu)), and the IPI ' +
      '(send_call_function_single_ipi / _ipi_mask after the loop): one LOCK\'d step, as in common/smp.ts. The target runs func(info) and then releases the csd ' +
      '(csd_unlock), which is what a synchronous csd (CSD_TYPE_SYNC, wait) does; an asynchronous one is not modelled',
    arity: 5,
    run: function* (x, [cpu, csd, func, info, sync]) {
      if (!truthy(sync!)) throw modelError(x.site, `${x.site.text}: an asynchronous cross-call (wait=0) is not modelled: the handler releases a csd after the call, as for wait=1`);
      if (int(x, cpu!) === x.k.cpu) throw modelError(x.site, `${x.site.text}: a cross-call to the sender's own CPU is not modelled (the kernel runs it locally, without an IPI)`);
      const spec = callSpec(x, func!, info!);
      yield* sendCall(int(x, cpu!), queued(x.k.cpu, spec, csdWord(x, csd!)), tagOf(x.site));
      return none;
    },
  },
  // ---- the IPI handler's queue (kernel/smp.c __flush_smp_call_function_queue / flush_smp_call_function_queue) ----
  tlbcheck_llist_taken: {
    doc:
      'kernel/smp.c: entry = llist_reverse_order(llist_del_all(&call_single_queue)), as the interrupt entry took it (the machine\'s ' +
      'delivery of the IPI takes the queue in the same step): the number of csds taken, read without a step',
    arity: 0,
    run: function* (x) {
      return takenCalls(x).length;
    },
  },
  tlbcheck_llist_csd: {
    doc: 'the i-th csd the handler took (queue order): its lock word, which csd_unlock() releases',
    arity: 1,
    run: function* (x, [i]) {
      return { t: 'mem', loc: takenCall(x, i!).csd, what: 'ptr' };
    },
  },
  tlbcheck_llist_func: {
    doc: 'csd->func of the i-th csd the handler took: the C function the sender queued',
    arity: 1,
    run: function* (x, [i]) {
      return { t: 'fn', name: takenCall(x, i!).func };
    },
  },
  tlbcheck_llist_info: {
    doc: 'csd->info of the i-th csd the handler took: the argument the sender queued (a value, the payload of the call)',
    arity: 1,
    run: function* (x, [i]) {
      return (takenCall(x, i!).info ?? 0) as Val;
    },
  },
  tlbcheck_csd_do_func: {
    doc:
      'func(info) of a taken csd (6.x csd_do_func() without its trace points), run as the variant\'s cross-call (its cross_call: the ' +
      'function by name, in a frame of its own, as every data call); a csd a TypeScript helper queued runs its closure',
    arity: 3,
    run: function* (x, [func, info, csd]) {
      if (typeof func !== 'object' || func.t !== 'fn') throw modelError(x.site, `${x.site.text}: the function must be defined in the C files`);
      const loc = csdWord(x, csd!);
      const c = takenCalls(x).find((t) => t.csd === loc);
      const run = c?.payload === undefined ? undefined : (c.payload as CallFn);
      yield* runCall(x.k, run ? { func: func.name, run } : { func: func.name, info: info as CallData });
      return none;
    },
  },
  // ---- kernel page tables (arch/x86/mm/pgtable.c: pmd_free_pte_page, huge ioremap/vmalloc) ----
  pmd_page_vaddr: {
    doc: 'the leaf table page an upper entry points to, as its pfn (the model keeps no kernel virtual addresses of table pages)',
    arity: 1,
    run: function* (x, [e]) {
      return entryPfn(int(x, e!));
    },
  },
  pmd_none: {
    doc: 'whether an upper entry (its value) is empty',
    arity: 1,
    run: function* (x, [e]) {
      return int(x, e!) === 0 ? 1 : 0;
    },
  },
  free_page: {
    doc: 'give a page back to the page allocator (fx.freePage); takes the pfn pmd_page_vaddr() returned. Who reuses it is the scenario\'s',
    arity: 1,
    run: function* (x, [p]) {
      yield* freePage(int(x, p!), tagOf(x.site));
      return none;
    },
  },
};

/**
 * The mm side (mm/memory.c, mm/madvise.c, mm/mremap.c, mm/mmu_gather.c and their headers):
 * page-table entries, the split page-table lock, atomics on mm fields and the page allocator.
 *
 * - A `pte_t *` / `pmd_t *` is a pointer to the entry's word in the model's memory (the
 *   upper table stands for the PMD level: the model has two levels). A `pte_t` is the word.
 * - `struct page *` is the page's pfn (never 0). The unmap drops the last reference the
 *   scenario's pages have, so `free_page_and_swap_cache` frees the page (fx.freePage).
 * - The split PTE lock (`pte_lockptr`, a spinlock in the table page's struct page) is a shared
 *   word the scenario declares as `ptl@<pfn of the leaf table>`; spin_lock waits until it
 *   reads 0 and takes it with LOCK CMPXCHG, spin_unlock is a plain store (x86
 *   queued_spin_unlock is smp_store_release: a MOV).
 * - `mm->tlb_flush_pending` is the word `<mm name>.tlb_flush_pending` the scenario declares.
 */
function varOf(x: EnvCtx, name: string): number {
  try {
    return x.k.L.varLoc(name);
  } catch {
    throw modelError(x.site, `${x.site.text}: the scenario declares no variable '${name}' (extraVars)`);
  }
}

const ptr = (loc: number): Val => ({ t: 'mem', loc, what: 'ptr' });

function entryWord(x: EnvCtx, v: Val): number {
  if (typeof v === 'object' && v.t === 'mem') return v.loc;
  throw modelError(x.site, `${x.site.text}: expected a pte_t * or pmd_t * (a pointer to a page-table entry)`);
}

/** `spin_lock(ptl)`: wait for 0, then LOCK CMPXCHG 0 -> 1; retry when another CPU won. */
function* spinLock(x: EnvCtx, loc: number): Routine {
  for (;;) {
    yield* waitUntil(loc, (v) => v === 0, `${x.k.L.nameOf(loc)} to be released`, tagOf(x.site));
    if ((yield* cmpxchg(loc, 0, 1, tagOf(x.site))) === 0) return;
  }
}

/**
 * An RCU grace period (kernel/rcu), as the model's readers need it: it cannot end while any
 * other CPU is inside a section that began before it with IRQs off (GUP-fast's
 * local_irq_save, the only read side the scenarios have; every RCU flavour counts an
 * IRQs-off region as a read-side critical section since the 4.20 consolidation).
 * - smp_mb() first: the updater's unlinking store (pmd_clear) is visible before the grace
 *   period starts (call_rcu()/synchronize_rcu() order with full-barrier strength).
 * - Then a no-op cross-call to every other CPU, waited for: it is delivered only when that CPU
 *   has IRQs on, so it returns only after each CPU has been outside every IRQs-off section at
 *   some moment after the start: a quiescent state for such readers.
 * Simplified, and why that is safe: real grace periods also wait for preempt-disabled and
 * rcu_read_lock() sections with IRQs on, and end later than this; a shorter grace period can
 * only let a callback free earlier, so it hides no bug. The cross-call is the model's device
 * for "wait until IRQs are on", not a claim that RCU sends IPIs (normal grace periods do not).
 */
function* rcuGracePeriod(x: EnvCtx): Routine {
  yield* smpMb('call_rcu: full barrier before the grace period');
  const others: number[] = [];
  for (let c = 0; c < x.k.L.cpus; c++) if (c !== x.k.cpu) others.push(c);
  const quiescent: CallSpec = { func: 'rcu: quiescent state (IRQs on)', run: function* (): Routine {} };
  if (others.length === 1) yield* smp_call_function_single(x.k, others[0]!, quiescent);
  else if (others.length > 1) yield* queueAndWait(x.k, others, quiescent);
}

export const MM_ENV: Readonly<Record<string, EnvEntry>> = {
  pmd_off: {
    doc: 'include/linux/pgtable.h pmd_off(mm, va): a pointer to the upper entry of va in the mm\'s tree (the model\'s PMD level)',
    arity: 2,
    run: function* (x, [mm, a]) {
      return ptr(entryLoc(x.k.L.mm(mmId(x, mm!)).pgd, upperIndex(int(x, a!))));
    },
  },
  pte_offset_map_lock: {
    doc:
      'mm/pgtable-generic.c __pte_offset_map_lock (6.5+): read *pmd (NULL when not present), take the table\'s split lock ' +
      '(*ptlp), read *pmd again and retry when it changed (pmd_same); returns a pointer to the PTE of addr',
    arity: 4,
    lvalueArg: 3,
    run: function* (x, [, pmd, a, ref]) {
      const pmdLoc = entryWord(x, pmd!);
      for (;;) {
        const e = yield* load(pmdLoc, tagOf(x.site));
        if (!entryPresent(e)) return 0;
        const lock = varOf(x, `ptl@${entryPfn(e)}`);
        yield* spinLock(x, lock);
        if ((yield* load(pmdLoc, tagOf(x.site))) === e) {
          if (typeof ref === 'object' && ref.t === 'lref') x.setLocal(ref, ptr(lock));
          return ptr(entryLoc(entryPfn(e), leafIndex(int(x, a!))));
        }
        yield* store(lock, 0, 'spin_unlock: pmd changed, retry');
      }
    },
  },
  pte_unmap_unlock: {
    doc: 'include/linux/mm.h pte_unmap_unlock(pte, ptl): spin_unlock(ptl), a plain store of 0',
    arity: 2,
    run: function* (x, [, ptl]) {
      if (x.ptlDrop) yield* x.ptlDrop();
      yield* store(entryWord(x, ptl!), 0, tagOf(x.site));
      return none;
    },
  },
  pte_offset_map: {
    doc:
      'include/linux/pgtable.h pte_offset_map(pmd, addr): read *pmd (NULL when not present); a pointer to the PTE of addr. ' +
      'Given the address of a local copy (GUP-fast: pte_offset_map(&pmd, addr)), it reads the local, as __pte_offset_map() does, and no shared word',
    arity: 2,
    run: function* (x, [pmd, a]) {
      const e = typeof pmd === 'object' && pmd.t === 'lref' ? int(x, x.getLocal(pmd)) : yield* load(entryWord(x, pmd!), tagOf(x.site));
      return entryPresent(e) ? ptr(entryLoc(entryPfn(e), leafIndex(int(x, a!)))) : 0;
    },
  },
  pte_unmap: { doc: 'include/linux/pgtable.h pte_unmap(): kunmap_local and rcu_read_unlock, no effect on x86-64 (no highmem PTE pages; the RCU read side is not modelled)', arity: 1, run: function* () { return none; } },
  pmdp_get_lockless: {
    doc:
      'include/linux/pgtable.h pmdp_get_lockless(pmdp): one load of the upper entry (x86-64: a single word), by a software walker ' +
      '(GUP-fast): the machine reports the table page it read as a walk-read (fx.walkLoad), judged by no-walk-through-freed-table',
    arity: 1,
    run: function* (x, [p]) {
      const loc = entryWord(x, p!);
      return yield* walkLoad(loc, { level: 'root', va: (loc % ENTRIES) * ENTRIES * PAGE_SIZE }, tagOf(x.site));
    },
  },
  ptep_get_lockless: {
    doc:
      'include/linux/pgtable.h ptep_get_lockless(ptep): one load of the PTE (x86-64: a single word), by a software walker (GUP-fast) ' +
      'with IRQs off: reported as a walk-read of the leaf table page (fx.walkLoad). The va shown is the PTE\'s place in its table (the upper index is not known here)',
    arity: 1,
    run: function* (x, [p]) {
      const loc = entryWord(x, p!);
      return yield* walkLoad(loc, { level: 'leaf', va: (loc % ENTRIES) * PAGE_SIZE }, tagOf(x.site));
    },
  },
  pmd_present: { doc: '_PAGE_PRESENT set in the upper entry', arity: 1, run: function* (x, [v]) { return entryPresent(int(x, v!)) ? 1 : 0; } },
  pte_access_permitted: {
    doc: 'arch/x86 pte_access_permitted(pte, write): present, user (every user PTE of the model), and writable when write is asked (the model keeps R/W inverted: NOT_WRITABLE); no protection keys',
    arity: 2,
    run: function* (x, [v, w]) {
      const e = int(x, v!);
      return entryPresent(e) && (!truthy(w!) || (e & NOT_WRITABLE) === 0) ? 1 : 0;
    },
  },
  call_rcu: {
    doc:
      'kernel/rcu/tree.c call_rcu(head, func): func(head) runs once a grace period has ended. The model runs it in the caller, ' +
      'after the grace period it waits for (rcuGracePeriod): a later callback only frees later, which can hide no bug',
    arity: 2,
    run: function* (x, [head, func]) {
      if (typeof func !== 'object' || func.t !== 'fn') throw modelError(x.site, 'call_rcu() needs a function defined in the C files');
      yield* rcuGracePeriod(x);
      yield* x.runC(x.k, func.name, [head!]);
      return none;
    },
  },
  spin_lock_nested: { doc: 'spin_lock (the lockdep subclass has no effect)', arity: 2, run: function* (x, [l]) { yield* spinLock(x, entryWord(x, l!)); return none; } },
  spin_lock: { doc: 'spin until the lock word is 0, then LOCK CMPXCHG it to 1', arity: 1, run: function* (x, [l]) { yield* spinLock(x, entryWord(x, l!)); return none; } },
  spin_unlock: {
    doc: 'queued_spin_unlock: smp_store_release of 0, a plain store on x86',
    arity: 1,
    run: function* (x, [l]) {
      if (x.ptlDrop) yield* x.ptlDrop();
      yield* store(entryWord(x, l!), 0, tagOf(x.site));
      return none;
    },
  },
  pte_lockptr: {
    doc: 'include/linux/mm.h pte_lockptr(mm, pmd): the split lock of the table *pmd points to (one load of *pmd)',
    arity: 2,
    run: function* (x, [, pmd]) {
      const e = yield* load(entryWord(x, pmd!), tagOf(x.site));
      return entryPresent(e) ? ptr(varOf(x, `ptl@${entryPfn(e)}`)) : 0;
    },
  },
  ptep_get: { doc: 'READ_ONCE(*ptep): one load', arity: 1, run: function* (x, [p]) { return yield* load(entryWord(x, p!), tagOf(x.site)); } },
  pmdp_get: { doc: 'READ_ONCE(*pmdp): one load', arity: 1, run: function* (x, [p]) { return yield* load(entryWord(x, p!), tagOf(x.site)); } },
  ptep_get_and_clear: {
    doc: 'arch/x86 native_ptep_get_and_clear: xchg(ptep, 0), LOCK\'d',
    arity: 3,
    run: function* (x, [, , p]) {
      return yield* xchg(entryWord(x, p!), 0, tagOf(x.site));
    },
  },
  ptep_get_and_clear_full: {
    doc: 'arch/x86 ptep_get_and_clear_full: with full (exit_mmap) native_local_ptep_get_and_clear, a plain read and clear; else native_ptep_get_and_clear (xchg)',
    arity: 4,
    run: function* (x, [, , p, full]) {
      if (truthy(full!)) {
        const old = yield* load(entryWord(x, p!), tagOf(x.site));
        yield* store(entryWord(x, p!), 0, tagOf(x.site));
        return old;
      }
      return yield* xchg(entryWord(x, p!), 0, tagOf(x.site));
    },
  },
  pmdp_collapse_flush: {
    doc: 'mm/pgtable-generic.c pmdp_collapse_flush(vma, addr, pmdp): pmdp_huge_get_and_clear (xchg of the upper entry), then flush_tlb_range of the PMD\'s range (run by the program\'s flush_tlb_mm_range)',
    arity: 3,
    run: function* (x, [vma, a, p]) {
      const old = yield* xchg(entryWord(x, p!), 0, tagOf(x.site));
      const start = Math.floor(int(x, a!) / (ENTRIES * PAGE_SIZE)) * ENTRIES * PAGE_SIZE;
      yield* x.runC(x.k, 'flush_tlb_mm_range', [vma!, start, start + ENTRIES * PAGE_SIZE, PAGE_SHIFT, 1]);
      return old;
    },
  },
  set_pte_at: {
    doc: 'set_pte_at(mm, addr, ptep, pte): a plain store (native_set_pte)',
    arity: 4,
    run: function* (x, [, , p, v]) {
      yield* store(entryWord(x, p!), int(x, v!), tagOf(x.site));
      return none;
    },
  },
  pmd_none: { doc: 'the upper entry is 0', arity: 1, run: function* (x, [v]) { return int(x, v!) === 0 ? 1 : 0; } },
  pmd_pgtable: { doc: 'include/linux/pgtable.h pmd_pgtable(pmd): the leaf table page the entry points to (its pfn)', arity: 1, run: function* (x, [v]) { return entryPfn(int(x, v!)); } },
  pte_none: { doc: 'the entry is 0', arity: 1, run: function* (x, [v]) { return int(x, v!) === 0 ? 1 : 0; } },
  pte_present: { doc: '_PAGE_PRESENT set', arity: 1, run: function* (x, [v]) { return entryPresent(int(x, v!)) ? 1 : 0; } },
  pte_young: { doc: '_PAGE_ACCESSED set (the model keeps A inverted: NOT_ACCESSED)', arity: 1, run: function* (x, [v]) { return (int(x, v!) & NOT_ACCESSED) === 0 ? 1 : 0; } },
  pte_dirty: { doc: '_PAGE_DIRTY set (kept inverted: NOT_DIRTY)', arity: 1, run: function* (x, [v]) { return (int(x, v!) & NOT_DIRTY) === 0 ? 1 : 0; } },
  pte_mkold: { doc: 'clear _PAGE_ACCESSED', arity: 1, run: function* (x, [v]) { return int(x, v!) | NOT_ACCESSED; } },
  pte_mkclean: { doc: 'clear _PAGE_DIRTY', arity: 1, run: function* (x, [v]) { return int(x, v!) | NOT_DIRTY; } },
  vm_normal_page: { doc: 'mm/memory.c vm_normal_page(vma, addr, pte): the page the PTE maps (its pfn; no special mappings in the model)', arity: 3, run: function* (x, [, , v]) { return entryPfn(int(x, v!)); } },
  free_page_and_swap_cache: { doc: 'mm/swap_state.c: drop the page\'s last reference, the allocator frees it (fx.freePage)', arity: 1, run: function* (x, [pg]) { yield* freePage(int(x, pg!), tagOf(x.site)); return none; } },
  pte_accessible: { doc: 'arch/x86 pte_accessible(mm, pte): _PAGE_PRESENT (PROT_NONE mappings are not modelled)', arity: 2, run: function* (x, [, v]) { return entryPresent(int(x, v!)) ? 1 : 0; } },
  pte_wrprotect: { doc: 'clear _PAGE_RW (the model keeps R/W inverted: NOT_WRITABLE)', arity: 1, run: function* (x, [v]) { return int(x, v!) | NOT_WRITABLE; } },
  pte_needs_flush: {
    doc: 'arch/x86/include/asm/tlbflush.h pte_needs_flush(old, new): a present old PTE whose pfn or permission bits changed (the model\'s bits: pfn, R/W, global)',
    arity: 2,
    run: function* (x, [o, n]) {
      const a = int(x, o!);
      const b = int(x, n!);
      if (!entryPresent(a)) return 0;
      return entryPfn(a) !== entryPfn(b) || (a & (NOT_WRITABLE | 2)) !== (b & (NOT_WRITABLE | 2)) || !entryPresent(b) ? 1 : 0;
    },
  },
  cpumask_or: {
    doc: 'include/linux/cpumask.h cpumask_or(dst, a, b): load both, store the union (not atomic)',
    arity: 3,
    run: function* (x, [d, a, b]) {
      const va = yield* load(memLoc(x, a!), tagOf(x.site));
      const vb = yield* load(memLoc(x, b!), tagOf(x.site));
      yield* store(memLoc(x, d!), va | vb, tagOf(x.site));
      return none;
    },
  },
  cpumask_clear: { doc: 'store 0 to the mask', arity: 1, run: function* (x, [m]) { yield* store(memLoc(x, m!), 0, tagOf(x.site)); return none; } },
  atomic_read: { doc: 'a plain load', arity: 1, run: function* (x, [p]) { return yield* load(memLoc(x, p!), tagOf(x.site)); } },
  atomic_inc: { doc: 'LOCK INC: fx.xadd', arity: 1, run: function* (x, [p]) { yield* xadd(memLoc(x, p!), 1, tagOf(x.site)); return none; } },
  atomic_dec: { doc: 'LOCK DEC: fx.xadd', arity: 1, run: function* (x, [p]) { yield* xadd(memLoc(x, p!), -1, tagOf(x.site)); return none; } },
  atomic_cmpxchg: { doc: 'LOCK CMPXCHG: fx.cmpxchg, returns the old value', arity: 3, run: function* (x, [p, o, n]) { return yield* cmpxchg(memLoc(x, p!), int(x, o!), int(x, n!), tagOf(x.site)); } },
};

/** `mm->tlb_flush_pending` and `mm->tlb_flush_batched` (include/linux/mm_types.h, atomic_t): the scenario's words; `mm->mm_users`/`mm_count`: the slot's, with mm lifetimes. */
export function mmFieldVar(k: K<CoreRoutines>, site: SrcSite, mm: number, name: string): Val | undefined {
  // The mm's reference counts (include/linux/mm_types.h, atomic_t): words of its slot.
  // In a scenario whose mms are born and die (it has last_mm_ctx_id) the counts are kept;
  // elsewhere a variant may add them as fields of its own (mm-fields=).
  if ((name === 'mm_users' || name === 'mm_count') && k.L.hasVar('last_mm_ctx_id')) return { t: 'mem', loc: k.L.mmField(mm, name), what: 'word' };
  if (name !== 'tlb_flush_pending' && name !== 'tlb_flush_batched') return undefined;
  try {
    return { t: 'mem', loc: k.L.varLoc(`${k.L.mmName(mm)}.${name}`), what: 'word' };
  } catch {
    throw modelError(site, `mm->${name}: the scenario declares no variable '${k.L.mmName(mm)}.${name}'`);
  }
}

Object.assign(ENV as Record<string, EnvEntry>, MM_ENV);

/**
 * Fields of the running task that the model keeps as words of the scenario: `current->tlb_ubc`
 * (mm/rmap.c, the reclaim's deferred-flush batch), kept as `cpu<N>.tlb_ubc.<field>` (e.g.
 * `cpu0.tlb_ubc.arch.cpumask`), which the scenario declares owned by that CPU. undefined for
 * any other path.
 */
export function taskVarLoc(k: K<CoreRoutines>, site: SrcSite, path: string): number | undefined {
  if (!path.startsWith('current.tlb_ubc.')) return undefined;
  const name = `cpu${k.cpu}.${path.slice('current.'.length)}`;
  try {
    return k.L.varLoc(name);
  } catch {
    throw modelError(site, `${site.text}: the scenario declares no variable '${name}' for current->${path.slice('current.'.length).replace(/\./g, '.')}`);
  }
}

/** `current->tlb_ubc` or a place inside it: the running task's batch, not a per-CPU variable. */
const isTaskBatch = (v: Extract<Val, { t: 'pcpu' }>): boolean => v.cpu === undefined && (v.path === 'current.tlb_ubc' || v.path.startsWith('current.tlb_ubc.'));

/**
 * The one load or fixed read an rvalue conversion of `v` makes in the common cases (a shared
 * word, a fixed word, a per-CPU variable), and the C type it is read as (`rvalueOf` turns the
 * word read into the value): the interpreter yields it itself, and `rvalue` runs it as a
 * routine. Undefined for the rest (a number, a task batch word, a place), which only `rvalue`
 * handles.
 */
export function rvalueRead(k: K<CoreRoutines>, site: SrcSite, v: Val): { readonly loc: number; readonly fixed: boolean; readonly type: PcpuType | undefined } | undefined {
  if (typeof v !== 'object') return undefined;
  if (v.t === 'mem') return v.what === 'word' ? { loc: v.loc, fixed: false, type: undefined } : v.what === 'fixed' ? { loc: v.loc, fixed: true, type: undefined } : undefined;
  if (v.t !== 'pcpu' || isTaskBatch(v)) return undefined;
  if (v.cpu === undefined && !v.path.startsWith('current.')) throw modelError(site, `per-CPU variable '${v.path}' read without this_cpu_read()`);
  const { loc, type } = pcpuLoc({ k, site }, v);
  return { loc, fixed: false, type };
}

/** The value an rvalue conversion gives for word `w` read as `rvalueRead` said. */
export const rvalueOf = (type: PcpuType | undefined, w: number): Val => (type === undefined ? w : asType(type, w));

/**
 * Whether rvalue conversion of `v`, which `rvalueRead` does not read, loads a word of the
 * task's batch (`current->tlb_ubc...`); otherwise `v` is a place and converts to itself.
 */
export function rvalueLoadsBatch(k: K<CoreRoutines>, v: Val): v is Extract<Val, { t: 'pcpu' }> {
  // A word of the task's batch is loaded; the batch itself (or its arch part) is a place.
  return typeof v === 'object' && v.t === 'pcpu' && isTaskBatch(v) && k.L.hasVar(`cpu${k.cpu}.${v.path.slice('current.'.length)}`);
}

/** Rvalue conversion at run time: a shared word is loaded; a per-CPU place needs this_cpu_read. */
export function* rvalue(x: { readonly k: K<CoreRoutines>; readonly site: SrcSite }, v: Val): Routine<Val> {
  const rd = rvalueRead(x.k, x.site, v);
  if (rd) return rvalueOf(rd.type, rd.fixed ? ((yield { k: 'read-fixed', loc: rd.loc }) as number) : yield* load(rd.loc, tagOf(x.site)));
  if (rvalueLoadsBatch(x.k, v)) return yield* load(taskVarLoc(x.k, x.site, v.path)!, tagOf(x.site));
  return v;
}
