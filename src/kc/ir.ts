/**
 * Values and bytecode of compiled kernel C. A running call is plain data (`CallState`): the
 * function, its pc, its locals and its operand stack, all made of the `Val` shapes below, so
 * a call can be copied with structuredClone and hashed without replaying anything.
 */

/** A kernel value. Integers and booleans are numbers; pointers are tagged objects; NULL is 0. */
export type Val =
  | number
  /** `struct mm_struct *` (init_mm is id 0). */
  | { readonly t: 'mm'; readonly id: number }
  /** `mm->context` (only its fields are ever used). */
  | { readonly t: 'mmctx'; readonly id: number }
  /** `mm->pgd`: the root table, what `load_cr3`/`build_cr3` take. */
  | { readonly t: 'pgd'; readonly id: number }
  /** A per-CPU variable or one of its fields, e.g. `cpu_tlbstate.ctxs[1].tlb_gen`; `cpu` set by `per_cpu`. */
  | { readonly t: 'pcpu'; readonly path: string; readonly cpu?: number }
  /**
   * A shared word in memory (`&mm->context.tlb_gen`, `mm_cpumask(mm)`); `fixed`: a word that
   * does not change while the code can reach it (`mm->context.ctx_id`), read without a step.
   */
  | { readonly t: 'mem'; readonly loc: number; readonly what: 'word' | 'ptr' | 'mask' | 'fixed' }
  /** A struct value (e.g. an on-stack `struct flush_tlb_info`); a pointer to it carries a copy. */
  | { readonly t: 'struct'; readonly f: Readonly<Record<string, Val>> }
  /** A function designator (for cross-calls). */
  | { readonly t: 'fn'; readonly name: string }
  /** An `X86_FEATURE_*` constant. */
  | { readonly t: 'feat'; readonly name: string }
  /** A static key (`DEFINE_STATIC_KEY_TRUE(name)`), tested with static_branch_likely/unlikely. */
  | { readonly t: 'key'; readonly name: string }
  /** The address of local `i` of the call at depth `f` of the call stack (out-parameters). */
  | { readonly t: 'lref'; readonly f: number; readonly i: number }
  /** A CR3 value (`build_cr3`, `build_cr3_noflush`, `__native_read_cr3`): root table page and PCID. */
  | { readonly t: 'cr3'; readonly root: number; readonly pcid: number; readonly noflush: boolean };

/** Where a construct sits in the user's file. */
export interface SrcSite {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** The call as written (whitespace collapsed), for WARN_ON messages. */
  readonly text: string;
  /** The comment at the end of the statement's line, used as the effect's ordering tag. */
  readonly tag?: string;
}

export type Op =
  | { readonly o: 'const'; readonly v: Val }
  | { readonly o: 'ld'; readonly i: number }
  | { readonly o: 'st'; readonly i: number }
  /** Pop a value into field `path` of the struct in local `i`. */
  | { readonly o: 'stf'; readonly i: number; readonly field: string; readonly site: SrcSite }
  /** Pop a value v and a struct s; push s with field set to v. */
  | { readonly o: 'mkf'; readonly field: string }
  /** Push the address of local `i` of the running call. */
  | { readonly o: 'lref'; readonly i: number }
  /** Pop a value v and an address; store v there (`*p = v`). */
  | { readonly o: 'stind'; readonly site: SrcSite }
  | { readonly o: 'pop' }
  | { readonly o: 'dup' }
  | { readonly o: 'jmp'; t: number }
  | { readonly o: 'jz'; t: number }
  | { readonly o: 'jnz'; t: number }
  | { readonly o: 'un'; readonly op: string; readonly site: SrcSite }
  | { readonly o: 'bin'; readonly op: string; readonly site: SrcSite }
  | { readonly o: 'field'; readonly name: string; readonly site: SrcSite }
  | { readonly o: 'index'; readonly site: SrcSite }
  | { readonly o: 'addr'; readonly site: SrcSite }
  | { readonly o: 'deref'; readonly site: SrcSite }
  /** Rvalue conversion: a shared word is loaded, a per-CPU place is an error. */
  | { readonly o: 'rv'; readonly site: SrcSite }
  | { readonly o: 'call'; readonly fn: string; readonly argc: number; readonly site: SrcSite }
  /** Call the function a local holds (`func(info)` with `smp_call_func_t func`): pops args, then it. */
  | { readonly o: 'calli'; readonly argc: number; readonly site: SrcSite }
  | { readonly o: 'env'; readonly name: string; readonly argc: number; readonly site: SrcSite }
  | { readonly o: 'ret' }
  | { readonly o: 'retv' };

export interface CFunction {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly params: readonly string[];
  readonly locals: readonly string[];
  readonly code: Op[];
  /** `static inline`: no frame of its own in the trace (the compiler inlines it in the kernel). */
  readonly inline: boolean;
  /** It calls cpu_relax(): its loads are noted for the spin wait (env-table.ts cpu_relax). */
  readonly spins: boolean;
  /** Per pc: locals that are dead there (cleared at effect points so dead values never split states). */
  dead: (readonly number[])[];
}

/** One running call: plain data. */
export interface CallState {
  readonly fn: string;
  pc: number;
  readonly locals: Val[];
  readonly stack: Val[];
}

/**
 * The ops of a function with one property layout (every field of every kind, in one order): the
 * interpreter reads each op's fields at every step, and ops of one shape keep those reads
 * monomorphic. The kinds stay what `Op` says.
 */
export function uniformOps(code: readonly Op[]): Op[] {
  return code.map((op) => {
    const f = op as unknown as Readonly<Record<string, unknown>>;
    const u: Record<string, unknown> = { o: op.o };
    for (const k of OP_FIELDS) u[k] = f[k];
    return u as unknown as Op;
  });
}

/** Every field an op kind has, besides `o`, in one fixed order (a field missing here does not compile). */
type OpField = Exclude<Op extends unknown ? keyof Op : never, 'o'>;
const OP_FIELD_SET = { v: 0, i: 0, field: 0, site: 0, t: 0, op: 0, name: 0, fn: 0, argc: 0 } satisfies Record<OpField, 0>;
const OP_FIELDS = Object.keys(OP_FIELD_SET) as OpField[];

export const isObj = (v: Val): v is Exclude<Val, number> => typeof v === 'object';

/** Whether two kernel values are the same (pointers compare by what they designate). */
export function valEq(a: Val, b: Val): boolean {
  if (typeof a === 'number' || typeof b === 'number') return a === b;
  if (a === b) return true;
  if (a.t !== b.t) return false;
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  // As JSON would compare them: a field that is undefined is a field that is absent.
  if (a.t === 'struct') {
    const fa = a.f as Readonly<Record<string, Val | undefined>>;
    const fb = (b as typeof a).f as Readonly<Record<string, Val | undefined>>;
    for (const k in fa) {
      const u = fa[k];
      const w = fb[k];
      if (u === undefined || w === undefined ? u !== w : !valEq(u, w)) return false;
    }
    for (const k in fb) if (fa[k] === undefined && fb[k] !== undefined) return false;
    return true;
  }
  for (const k in x) if (x[k] !== y[k]) return false;
  for (const k in y) if (x[k] === undefined && y[k] !== undefined) return false;
  return true;
}

export const truthy = (v: Val): boolean => (typeof v === 'number' ? v !== 0 : true);
