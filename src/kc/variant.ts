/**
 * A variant from C: the program's functions become the kernel routines of the engine, next
 * to the generation-neutral TypeScript glue (the scheduler's context_switch, the return to
 * user mode, the IPI entry's IRET, boot state; the IPI handler is the program's C where it has
 * one, `IPI_C_ENTRIES`). The entry points the scenarios call are
 * bridged here, with their C arguments matched by parameter name; ghost bookkeeping (flush
 * begin/end) is added around the entry call by the harness, never written in the C.
 */
import { UserError } from '../errors.ts';
import { initCpuNoPcid } from '../kernel/common/boot.ts';
import { initCpuPcid } from '../kernel/common/boot-pcid.ts';
import { initCpuPti } from '../kernel/linux-4.15-pti/boot.ts';
import { type SetupPcidCheck, setupPcid } from '../kernel/common/setup-pcid.ts';
import { user_access as ptiUserAccess } from '../kernel/linux-4.15-pti/entry.ts';
import { initCpuKaiser, switch_user_cr3_const, switch_user_cr3_percpu, userAccess } from '../kernel/kaiser/entry.ts';
import { INIT_MM } from '../kernel/layout.ts';
import { context_switch, user_access } from '../kernel/common/sched.ts';
import { call_function_interrupt } from '../kernel/common/smp.ts';
import { type K, type Routine, access, call, iret, sub, flushBegin, flushEnd, irqDisable, irqEnable, pasidUpdateBegin, pasidUpdateEnd, readPasidMsr } from '../kernel/fx.ts';
import type { AccessResult } from '../machine/effects.ts';
import type { PcpuField } from '../kernel/layout.ts';
import type { CoreRoutines, Expectation, Variant } from '../kernel/variant.ts';
import type { Features, MmId } from '../machine/types.ts';
import { PAGE_SHIFT } from '../machine/types.ts';
import { type Val, truthy } from './ir.ts';
import { type EntryHooks, runC } from './interp.ts';
import { type CSource, type Linked, link } from './program.ts';
import type { PreConfig } from './preproc.ts';
import type { DeclaredInvariant } from './header.ts';
import { evalPredicate } from './predicate.ts';

/** Entry points every C generation defines. */
export const C_ENTRIES = ['switch_mm_irqs_off', 'enter_lazy_tlb', 'flush_tlb_mm_range'] as const;

/**
 * How a CPU boots, by `boot=`: without PCID, the per-CPU field that holds the loaded mm
 * (`loaded_mm`, `active_mm`); with ASIDs, the PCID boot of common/boot-pcid.ts in the form of
 * 4.14 (`pcid-4.14`: init_mm has its bit), 4.20 (`pcid-4.20`) or 6.x (`pcid-lazy-cpumask`:
 * bits of mms switched away from stay set).
 */
const BOOTS: Readonly<Record<string, CoreRoutines['initCpu']>> = {
  /** 4.15 PTI: kernel/user PCID pairs at boot; the return to user is PTI's (entry.ts). */
  pti: initCpuPti,
  /** KAISER: the 4.4 variables and the per-cpu user CR3; SWITCH_USER_CR3 reads it (kaiser/entry.ts). */
  kaiser: initCpuKaiser,
  /** KAISER before the seed patch: SWITCH_USER_CR3 with a constant NOFLUSH user CR3. */
  'kaiser-const': initCpuKaiser,
  loaded_mm: (s, cpu, start) => initCpuNoPcid(s, cpu, start, 'loaded_mm'),
  active_mm: (s, cpu, start) => initCpuNoPcid(s, cpu, start, 'active_mm'),
  'pcid-4.14': (s, cpu, start) => initCpuPcid(s, cpu, start, { othersKeepBit: false, initMmBit: true }),
  /** 4.14 whose ASID slots name their owner by the mm's address (linux-4.14-asid-by-mm-address). */
  'pcid-4.14-by-address': (s, cpu, start) => initCpuPcid(s, cpu, start, { othersKeepBit: false, initMmBit: true, ownerByAddress: true }),
  'pcid-4.20': (s, cpu, start) => initCpuPcid(s, cpu, start, { othersKeepBit: false, initMmBit: false }),
  'pcid-lazy-cpumask': (s, cpu, start) => initCpuPcid(s, cpu, start, { othersKeepBit: true, initMmBit: false }),
};

/** The return to user mode where it is not the plain one: assembly in the kernel, TypeScript glue here. */
const USER_ACCESS: Readonly<Record<string, CoreRoutines['user_access']>> = {
  pti: ptiUserAccess,
  kaiser: userAccess(switch_user_cr3_percpu),
  'kaiser-const': userAccess(switch_user_cr3_const),
};

/**
 * The PASID #GP fixup (5.18+): ENQCMD with an invalid MSR_IA32_PASID raises #GP, whose
 * handler (exc_general_protection, IRQs off) calls the C try_fixup_enqcmd_gp(); if that loaded
 * the MSR the instruction runs again, otherwise the thread gets SIGSEGV and the ENQCMD never
 * runs. The entry and the instruction are hardware and assembly: TypeScript glue here.
 */
function enqcmdAccess(prog: Linked): CoreRoutines['user_access'] {
  return function* (k: K<CoreRoutines>, va: number, write: boolean): Routine<AccessResult> {
    return yield* call(
      'user access (ENQCMD)',
      (function* () {
        if ((yield* readPasidMsr()) === 0) {
          yield* irqDisable('#GP entry: IRQs off');
          const fixed = truthy(yield* sub('try_fixup_enqcmd_gp', () => runC(prog, k, 'try_fixup_enqcmd_gp', [])));
          yield* irqEnable(fixed ? 'IRET, ENQCMD retried' : 'SIGSEGV');
          if (!fixed) return { ok: false, fault: 'not-present' } as AccessResult;
        }
        return yield* access(va, write, 'ENQCMD');
      })(),
    );
  };
}

function userAccessOf(spec: CVariantSpec, prog: Linked): CoreRoutines['user_access'] {
  if (spec.userAccess === undefined) return USER_ACCESS[spec.boot] ?? user_access;
  if (spec.userAccess !== 'enqcmd') throw new UserError(`${spec.id}: user-access=${spec.userAccess} is not supported (enqcmd)`);
  if (!prog.fns.has('try_fixup_enqcmd_gp')) throw new UserError(`${spec.id}: user-access=enqcmd needs a try_fixup_enqcmd_gp() in the C`);
  return enqcmdAccess(prog);
}

/**
 * The interrupt entry of the call-function IPI, by generation: the assembly stub in front of
 * the C handler, written as an inline C function in the smp file (6.x's
 * `asm_sysvec_call_function_single` in linux-6.18/smp.c, 4.x's `call_function_single_interrupt`
 * in common/smp-calls-4.9-4.20.c). The first the program defines is the handler; a program
 * with neither (a user's C that links no smp file) keeps the TypeScript one (common/smp.ts).
 */
export const IPI_C_ENTRIES = ['asm_sysvec_call_function_single', 'call_function_single_interrupt'] as const;

/** The stub's interrupt return: IRET when the C it called has returned (`end` runs at its return). */
const IRET: EntryHooks = {
  begin: function* () {
    return 0;
  },
  end: function* () {
    yield* iret();
  },
};

/**
 * The call-function IPI handler in C: the interrupt frame runs the entry stub's C routine
 * itself, forked and keyed by its live state like every C call (never replayed), with the
 * IRET as its end hook. The cross-calls the delivery took reach the C through the environment
 * (`tlbcheck_llist_*`).
 */
function cCallFunctionInterrupt(prog: Linked, entry: string): CoreRoutines['call_function_interrupt'] {
  return (k, calls) => runC(prog, k, entry, [], IRET, calls) as unknown as Routine;
}

export interface CVariantSpec {
  readonly id: string;
  readonly title: string;
  readonly generation: string;
  readonly kind: Variant['kind'];
  readonly base?: string;
  readonly source: string;
  readonly features: Features;
  readonly sharedPcpu: ReadonlySet<PcpuField>;
  readonly expect: readonly Expectation[];
  readonly fixedBy?: string;
  readonly boot: string;
  /** The return to user mode where it is neither the plain one nor the boot's (`enqcmd`). */
  readonly userAccess?: string;
  /** The checks of the boot's setup_pcid() (`setup-pcid=`; absent: none, features unchanged). */
  readonly setupPcid?: readonly SetupPcidCheck[];
  readonly sources: readonly CSource[];
  readonly noop: readonly string[];
  readonly config: readonly string[];
  /** Take only these functions of the last source (a whole kernel tlb.c). */
  readonly only?: ReadonlySet<string>;
  /** Invariants declared in the C (`invariant=name:function`), a base's included. */
  readonly invariants?: readonly DeclaredInvariant[];
  /** Fields the program adds to struct mm_struct (`mm-fields=`), a base's included. */
  readonly mmFields?: readonly string[];
}

export interface CVariant extends Variant {
  readonly program: Linked;
  /** Functions of the last source that were not taken (`only`). */
  readonly ignored: readonly string[];
  /** File-level pieces of a whole file that do not parse and were not needed. */
  readonly skipped: readonly string[];
  readonly spec: CVariantSpec;
}

const mmPtr = (id: MmId): Val => ({ t: 'mm', id });

function byName(params: readonly string[], named: Readonly<Record<string, Val>>): Val[] {
  return params.map((p) => named[p] ?? 0);
}

/** What the preprocessor sees of a variant: its CONFIG_ options and its machine's X86_FEATURE_ names. */
export function preConfigOf(spec: CVariantSpec): PreConfig {
  const features = new Set(Object.entries(spec.features).filter(([, on]) => on).map(([f]) => `X86_FEATURE_${f.toUpperCase()}`));
  return { config: new Set(spec.config), features };
}

export async function buildCVariant(spec: CVariantSpec): Promise<CVariant> {
  const boot = BOOTS[spec.boot];
  if (!boot) throw new UserError(`${spec.id}: boot=${spec.boot} is not supported (one of ${Object.keys(BOOTS).join(', ')})`);
  const prog = await link(spec.sources, preConfigOf(spec), spec.noop, spec.only);
  for (const e of C_ENTRIES) {
    if (!prog.fns.has(e)) throw new UserError(`${spec.sources[spec.sources.length - 1]!.file}: the program defines no ${e}() (every C generation needs ${C_ENTRIES.join(', ')})`);
  }
  const params = (fn: string): readonly string[] => prog.fns.get(fn)!.params;
  const ipiEntry = IPI_C_ENTRIES.find((fn) => prog.fns.has(fn));
  const routines: CoreRoutines = {
    initCpu: boot,
    context_switch,
    // The return to user mode is assembly in the kernel (entry_64.S): TypeScript glue.
    user_access: userAccessOf(spec, prog),
    // The IPI handler is the program's C where it has one (IPI_C_ENTRIES), else TypeScript glue.
    call_function_interrupt: ipiEntry === undefined ? call_function_interrupt : cCallFunctionInterrupt(prog, ipiEntry),
    switch_mm_irqs_off: function* (k: K<CoreRoutines>, prev: MmId, next: MmId): Routine {
      yield* sub('switch_mm_irqs_off', () => runC(prog, k, 'switch_mm_irqs_off', byName(params('switch_mm_irqs_off'), { prev: mmPtr(prev), next: mmPtr(next) })));
    },
    enter_lazy_tlb: function* (k: K<CoreRoutines>, mm: MmId): Routine {
      yield* sub('enter_lazy_tlb', () => runC(prog, k, 'enter_lazy_tlb', byName(params('enter_lazy_tlb'), { mm: mmPtr(mm) })));
    },
    flush_tlb_mm_range: function* (k: K<CoreRoutines>, mm: MmId, start: number, end: number, freed: boolean): Routine {
      const hooks: EntryHooks = { begin: () => flushBegin(mm, start, end), end: (t) => flushEnd(t) };
      const named = { mm: mmPtr(mm), start, end, vmflag: 0, stride_shift: PAGE_SHIFT, freed_tables: freed ? 1 : 0 };
      yield* sub('flush_tlb_mm_range', () => runC(prog, k, 'flush_tlb_mm_range', byName(params('flush_tlb_mm_range'), named), hooks));
    },
  } as CoreRoutines;
  for (const inv of spec.invariants ?? []) {
    if (!prog.fns.has(inv.fn)) throw new UserError(`${spec.id}: invariant ${inv.name} names ${inv.fn}(), which the program does not define`);
    if (prog.fns.get(inv.fn)!.params.length > 0) throw new UserError(`${spec.id}: invariant ${inv.name}: ${inv.fn}() takes no arguments (it is checked on every CPU; use smp_processor_id())`);
  }
  const r0 = routines as { -readonly [P in 'call_c' | 'has_c' | 'eval_c' | 'cross_call']: CoreRoutines[P] };
  // A cross-call's argument is a value of this program's C (env-table.ts queues it as data).
  r0.cross_call = function* (k, func, info) {
    yield* sub(func, () => runC(prog, k, func, [info as Val]));
  };
  r0.eval_c = (k, fn, view) => evalPredicate(prog, k, fn, view);
  r0.has_c = (fn: string) => prog.fns.has(fn);
  r0.call_c = function* (k: K<CoreRoutines>, fn: string, args: Readonly<Record<string, Val>>): Routine {
    if (!prog.fns.has(fn)) throw new UserError(`the scenario calls ${fn}(), which variant ${spec.id} does not define`);
    const unknown = Object.keys(args).filter((a) => !params(fn).includes(a));
    if (unknown.length > 0) throw new UserError(`the scenario passes ${unknown.join(', ')} to ${fn}(), whose parameters are (${params(fn).join(', ')})`);
    yield* sub(fn, () => runC(prog, k, fn, byName(params(fn), args)));
  };
  if (prog.fns.has('flush_tlb_kernel_range')) {
    const r = routines as { flush_tlb_kernel_range?: CoreRoutines['flush_tlb_kernel_range'] };
    r.flush_tlb_kernel_range = function* (k: K<CoreRoutines>, start: number, end: number): Routine {
      const hooks: EntryHooks = { begin: () => flushBegin(INIT_MM, start, end, true), end: (t) => flushEnd(t) };
      yield* sub('flush_tlb_kernel_range', () => runC(prog, k, 'flush_tlb_kernel_range', byName(params('flush_tlb_kernel_range'), { start, end }), hooks));
    };
  }
  if (prog.fns.has('flush_tlb_range')) {
    // asm/tlbflush.h's flush_tlb_range() macro, as a C function of the vma's mm: ghost flush begin/end around it.
    const r = routines as { flush_tlb_range?: CoreRoutines['flush_tlb_range'] };
    r.flush_tlb_range = function* (k: K<CoreRoutines>, mm: MmId, start: number, end: number): Routine {
      const hooks: EntryHooks = { begin: () => flushBegin(mm, start, end), end: (t) => flushEnd(t) };
      yield* sub('flush_tlb_range', () => runC(prog, k, 'flush_tlb_range', byName(params('flush_tlb_range'), { mm: mmPtr(mm), start, end }), hooks));
    };
  }
  if (prog.fns.has('pmd_free_pte_page')) {
    // Freeing a kernel page table (huge ioremap/vmalloc): the pmd is a pointer to shared memory.
    const r = routines as { pmd_free_pte_page?: CoreRoutines['pmd_free_pte_page'] };
    r.pmd_free_pte_page = function* (k: K<CoreRoutines>, pmd: number, addr: number): Routine {
      yield* sub('pmd_free_pte_page', () => runC(prog, k, 'pmd_free_pte_page', byName(params('pmd_free_pte_page'), { pmd: { t: 'mem', loc: pmd, what: 'ptr' }, addr })));
    };
  }
  if (prog.fns.has('update_mm_pasid')) {
    // Per-mm state (PASID): the update is an entry point, with ghost begin/end around it.
    const r = routines as { update_mm_pasid?: CoreRoutines['update_mm_pasid'] };
    r.update_mm_pasid = function* (k: K<CoreRoutines>, mm: MmId, val: number): Routine {
      const hooks: EntryHooks = { begin: () => pasidUpdateBegin(mm, val), end: (t) => pasidUpdateEnd(t) };
      yield* sub('update_mm_pasid', () => runC(prog, k, 'update_mm_pasid', byName(params('update_mm_pasid'), { mm: mmPtr(mm), pasid: val }), hooks));
    };
  }
  if (prog.fns.has('tlb_finish_mmu')) {
    // The mm side (link=mm/...): its entry points, by name, with (mm, start, end). The ghost
    // flush record holds what the caller saw under the page-table lock (made at its last
    // release: the scenarios' ranges lie in one table), or, when it took none, at its return;
    // it counts from the return. Changes other CPUs make after the caller dropped the lock
    // are theirs to flush.
    const r = routines as { mm_call?: CoreRoutines['mm_call'] };
    r.mm_call = function* (k: K<CoreRoutines>, fn: string, mm: MmId, start: number, end: number, more: Readonly<Record<string, number>> = {}): Routine {
      if (!prog.fns.has(fn)) throw new UserError(`${spec.id}: the C defines no mm entry point ${fn}()`);
      // The token lives in the running C routine (CRun), so a fork carries it: no closure state.
      const hooks: EntryHooks = {
        begin: function* () {
          return -1;
        },
        ptlDrop: () => flushBegin(mm, start, end),
        end: function* (token) {
          yield* flushEnd(token >= 0 ? token : yield* flushBegin(mm, start, end));
        },
      };
      const named = { ...more, mm: mmPtr(mm), vma: mmPtr(mm), start, end, address: start, size: end - start };
      yield* sub(fn, () => runC(prog, k, fn, byName(params(fn), named), hooks));
    };
  }
  if (prog.fns.has('copy_from_user_nmi')) {
    // The perf NMI handler's user read (perf_callchain_user -> copy_from_user_nmi of a frame).
    const r = routines as { copy_from_user_nmi?: CoreRoutines['copy_from_user_nmi'] };
    r.copy_from_user_nmi = function* (k: K<CoreRoutines>, va: number): Routine {
      yield* sub('copy_from_user_nmi', () => runC(prog, k, 'copy_from_user_nmi', byName(params('copy_from_user_nmi'), { to: 0, from: va, n: 8 })));
    };
  }
  const v: Variant = {
    id: spec.id,
    title: spec.title,
    generation: spec.generation,
    kind: spec.kind,
    source: spec.source,
    features: spec.features,
    sharedPcpu: spec.sharedPcpu,
    routines,
    expect: spec.expect,
    ...(spec.invariants && spec.invariants.length > 0 ? { invariants: spec.invariants } : {}),
    ...(prog.pcpuExtra.length > 0 || (spec.mmFields ?? []).length > 0 ? { extraState: { pcpu: prog.pcpuExtra, mm: spec.mmFields ?? [] } } : {}),
    ...(spec.base === undefined ? {} : { base: spec.base }),
    ...(spec.fixedBy === undefined ? {} : { fixedBy: spec.fixedBy }),
    ...(spec.setupPcid === undefined ? {} : { cpuCaps: (f: Features) => setupPcid(f, spec.setupPcid!) }),
  };
  return { ...v, program: prog, ignored: prog.ignored, skipped: prog.skipped, spec };
}
