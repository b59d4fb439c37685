/**
 * Run compiled C as a kernel routine. The running calls are a stack of `CallState`s, plain
 * data (function, pc, locals, operand stack); a `CRun` walks the bytecode and hands the engine
 * the effects of the environment entries it meets, as a generator would, so it plugs into the
 * engine like every TypeScript routine and yields exactly the effects the C asks for.
 *
 * At each effect point (an environment call or a call of another function) the locals that
 * are dead there (liveness, compile.ts) are reset to 0. The engine identifies a C routine by
 * `CRun.keyInto` (its live calls, and the environment entry it is inside of with the values fed
 * to that entry), not by its whole history, and copies it with `CRun.fork` (copy on write)
 * instead of replaying it: two executions that reach the same C state by different reads are
 * one state, as in SPIN. Only TypeScript glue (programs, the IPI handler of a variant without
 * a C one) is still identified by its history and rebuilt by replay.
 */
import { type K, type Routine, sub } from '../kernel/fx.ts';
import { mmAddress } from '../kernel/layout.ts';
import type { CrossCall, Effect } from '../machine/effects.ts';
import { Hasher } from '../machine/hash.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { binop } from './preproc.ts';
import { ENV, type EnvCtx, type PcpuType, mmFieldVar, modelError, rvalue, rvalueLoadsBatch, rvalueOf, rvalueRead, tagOf, taskVarLoc } from './env-table.ts';
import { type CFunction, type CallState, type SrcSite, type Val, truthy, valEq } from './ir.ts';

export interface CProgram {
  readonly fns: ReadonlyMap<string, CFunction>;
}

/** Harness bookkeeping around an entry point (ghost flush begin/end), never inside kernel text. */
export interface EntryHooks {
  begin(args: readonly Val[]): Routine<number>;
  end(token: number): Routine;
  /**
   * Before each release of a page-table lock inside the call (mm entry points): returns the
   * token `end` then gets (the last one wins).
   */
  ptlDrop?(): Routine<number>;
}

const NO_SITE: SrcSite = { file: '?', line: 0, col: 0, text: '' };

function fieldOf(site: SrcSite, base: Val, name: string): Val {
  if (typeof base !== 'object') throw modelError(site, `'.${name}' of a number (a NULL or integer pointer)`);
  switch (base.t) {
    case 'mm':
      if (name === 'context') return { t: 'mmctx', id: base.id };
      if (name === 'pgd') return { t: 'pgd', id: base.id };
      break;
    case 'pcpu':
      return { ...base, path: `${base.path}.${name}` };
    case 'struct':
      return base.f[name] ?? 0;
    default:
      break;
  }
  return { t: 'field-of', base, name } as unknown as Val;
}

function mmctxField(k: K<CoreRoutines>, site: SrcSite, id: number, name: string): Val {
  switch (name) {
    case 'ctx_id':
      // Written by init_new_context() before the mm is published, never again: read in place.
      return { t: 'mem', loc: k.L.mmField(id, 'ctx_id'), what: 'fixed' };
    case 'tlb_gen':
      return { t: 'mem', loc: k.L.tlbGen(id), what: 'word' };
    case 'pasid':
    case 'global_asid':
    case 'asid_transition':
      return { t: 'mem', loc: k.L.mmField(id, name), what: 'word' };
    default:
      throw modelError(site, `mm->context.${name} is not in the model (ctx_id, tlb_gen, pasid, global_asid, asid_transition)`);
  }
}

function unop(site: SrcSite, op: string, v: Val): Val {
  if (op === '(ulong)') return typeof v === 'object' && v.t === 'mm' ? mmAddress(v.id) : v;
  if (op === '!') return truthy(v) ? 0 : 1;
  if (op === '!!') return truthy(v) ? 1 : 0;
  if (typeof v !== 'number') throw modelError(site, `'${op}' on a pointer`);
  return op === '-' ? -v : op === '~' ? ~v : v;
}

function bin(site: SrcSite, op: string, a: Val, b: Val): Val {
  if (op === '==') return valEq(a, b) ? 1 : 0;
  if (op === '!=') return valEq(a, b) ? 0 : 1;
  // Pointer arithmetic on a page-table entry pointer (`pte++` in zap_pte_range): one entry per step.
  if (typeof a === 'object' && a.t === 'mem' && a.what === 'ptr' && typeof b === 'number' && (op === '+' || op === '-')) {
    return { ...a, loc: op === '+' ? a.loc + b : a.loc - b };
  }
  if (typeof a !== 'number' || typeof b !== 'number') {
    throw modelError(site, `'${op}' on a pointer (only == and != compare pointers)`);
  }
  return binop(op, a, b);
}

/** What a sub-routine the call is inside of (an environment entry, a read, a hook) was made from: data, so a copy can make it again. */
type SubSpec =
  | { readonly k: 'env'; readonly name: string; readonly site: SrcSite; readonly args: readonly Val[] }
  | { readonly k: 'rv'; readonly site: SrcSite; readonly v: Val }
  | { readonly k: 'begin'; readonly args: readonly Val[] }
  | { readonly k: 'end'; readonly token: number; readonly v: Val };

interface SubRun {
  readonly spec: SubSpec;
  /** Null in a fork until it runs: then made again and fed `inputs`. */
  gen: Routine<Val | number | void> | null;
  /** Every value fed to `gen` after its start (a copy replays them into a fresh one). */
  readonly inputs: unknown[];
  /** In a function that calls cpu_relax(): the word `gen` is loading now (see EnvCtx.lastRead). */
  loading: number | undefined;
}

/** What the value the routine's last yield gets back is for, when no sub-routine runs. */
const enum After {
  /** Not started: the first `next()` enters the function. */
  Start,
  /** Bytecode goes on (after an `enter`). */
  Run,
  /** After the `leave` of the innermost call: pop it and hand `retVal` to its caller. */
  Leave,
  /** After the read of an rvalue conversion made in place (`rvalueRead`): the word read replaces the operand. */
  Rv,
}

/**
 * One running C routine: the call stack (plain data), the environment entry or hook it is
 * inside of (made again from its spec and the values fed to it since), and its hooks' token.
 * It is the generator the engine drives; `fork()` copies it without replaying the routine, and
 * `keyInto()` hashes what decides its future (dead locals are already 0), not its history.
 */
/**
 * The context of every environment call of one run (`site` is set per call). A class, so a
 * fork makes no closures: its methods are shared.
 */
class RunCtx implements EnvCtx {
  site: SrcSite = NO_SITE;
  lastRead: { loc: number; val: number } | undefined = undefined;

  constructor(
    private readonly run: CRun,
    private readonly prog: CProgram,
    readonly k: K<CoreRoutines>,
  ) {}

  runC(kt: K<CoreRoutines>, f: string, fa: Val[]): Routine<Val> {
    const prog = this.prog;
    return sub(f, () => runC(prog, kt, f, fa));
  }

  setLocal(ref: { readonly f: number; readonly i: number }, v: Val): void {
    this.run.setLocal(ref, v);
  }

  getLocal(ref: { readonly f: number; readonly i: number }): Val {
    return this.run.getLocal(ref);
  }

  scratch(slot: number): Val {
    return this.run.scratch(slot);
  }

  /** EnvCtx.taken: the cross-calls the interrupt entry took, when this run is the IPI handler. */
  get taken(): readonly CrossCall[] | undefined {
    return this.run.taken;
  }

  /** EnvCtx.ptlDrop: the entry's hook, its token kept by the run (forked and hashed with it). */
  get ptlDrop(): (() => Routine) | undefined {
    const run = this.run;
    const hook = run.ptlHook();
    if (!hook) return undefined;
    return function* () {
      run.setToken(yield* hook());
    };
  }
}

export class CRun {
  private calls: CallState[] = [];
  /** The compiled function of each call (not part of the state: it follows from `fn`). */
  private code: CFunction[] = [];
  private token = -1;
  private sub: SubRun | undefined;
  private after = After.Start;
  private retVal: Val = 0;
  /** With `after` Rv: the word being loaded (-1 for a fixed read) and the C type it is read as. */
  private rvLoc = -1;
  private rvType: PcpuType | undefined = undefined;
  /** Whether `calls`, `code` and the sub-routine's inputs are shared with a fork (copy on write). */
  private shared = false;
  private keyA = 0;
  private keyB = 0;
  private keyValid = false;
  private readonly x: RunCtx;

  constructor(
    private readonly prog: CProgram,
    private readonly k: K<CoreRoutines>,
    private readonly name: string,
    private readonly args: readonly Val[],
    private readonly hooks: EntryHooks | undefined,
    /**
     * The IPI handler only: the cross-calls its interrupt entry took off this CPU's queue
     * (`llist_del_all` at delivery). Not hashed: the handler's frame id names them.
     */
    readonly taken?: readonly CrossCall[],
  ) {
    this.x = new RunCtx(this, prog, k);
  }

  /** The entry's ptlDrop hook, if it has one (EnvCtx.ptlDrop). */
  ptlHook(): (() => Routine<number>) | undefined {
    const h = this.hooks;
    return h?.ptlDrop === undefined ? undefined : () => h.ptlDrop!();
  }

  /** A token from the ptlDrop hook: `end` gets the last one. */
  setToken(t: number): void {
    if (this.shared) this.own();
    this.keyValid = false;
    this.token = t;
  }

  /** Write a local through its address (EnvCtx.setLocal). */
  setLocal(ref: { readonly f: number; readonly i: number }, v: Val): void {
    this.calls[ref.f]!.locals[ref.i] = v;
  }

  /** Read a local through its address (EnvCtx.getLocal). */
  getLocal(ref: { readonly f: number; readonly i: number }): Val {
    return this.calls[ref.f]!.locals[ref.i] ?? 0;
  }

  /**
   * The per-CPU scratch struct `slot` (EnvCtx.scratch): it lives, for the run of this routine,
   * in a hidden slot after the locals of its outermost call (which lasts until the flush returns).
   */
  scratch(slot: number): Val {
    const i = this.code[0]!.locals.length + slot;
    const base = this.calls[0]!.locals;
    while (base.length <= i) base.push({ t: 'struct', f: {} });
    return { t: 'lref', f: 0, i };
  }

  [Symbol.iterator](): this {
    return this;
  }

  return(v: Val): IteratorResult<Effect, Val> {
    return { done: true, value: v };
  }

  throw(e: unknown): IteratorResult<Effect, Val> {
    throw e;
  }

  /**
   * An independent copy at the same point. Copy on write: both share the call stack until one
   * of them runs on; a running sub-routine is made again (from its spec and inputs) only when
   * the copy runs.
   */
  fork(): CRun {
    const c = new CRun(this.prog, this.k, this.name, this.args, this.hooks, this.taken);
    c.calls = this.calls;
    c.code = this.code;
    c.token = this.token;
    c.after = this.after;
    c.retVal = this.retVal;
    c.rvLoc = this.rvLoc;
    c.rvType = this.rvType;
    c.pendingBegin = this.pendingBegin;
    c.x.lastRead = this.x.lastRead;
    const s = this.sub;
    if (s) c.sub = { spec: s.spec, gen: null, inputs: s.inputs, loading: s.loading };
    c.keyA = this.keyA;
    c.keyB = this.keyB;
    c.keyValid = this.keyValid;
    this.shared = c.shared = true;
    return c;
  }

  /** Take private copies of what a fork shares, before changing any of it. */
  private own(): void {
    this.calls = this.calls.map((cs) => ({ fn: cs.fn, pc: cs.pc, locals: cs.locals.slice(), stack: cs.stack.slice() }));
    this.code = this.code.slice();
    const s = this.sub;
    if (s) this.sub = { spec: s.spec, gen: s.gen, inputs: s.inputs.slice(), loading: s.loading };
    this.shared = false;
  }

  /** Hash what decides the routine's future (cached until it runs on). */
  keyInto(h: Hasher): void {
    if (!this.keyValid) {
      const kh = new Hasher();
      this.hashState(kh);
      kh.key64(KEY);
      this.keyA = KEY[0]!;
      this.keyB = KEY[1]!;
      this.keyValid = true;
    }
    h.add(this.keyA);
    h.add(this.keyB);
  }

  /** Its calls, the sub-routine it is in and what that was fed. */
  private hashState(h: Hasher): void {
    h.add(this.after);
    h.add(this.token);
    h.add(this.pendingBegin ? 1 : 0);
    h.add(this.calls.length);
    for (const cs of this.calls) {
      h.addString(cs.fn);
      h.add(cs.pc);
      h.add(cs.locals.length);
      for (const v of cs.locals) valInto(h, v);
      h.add(cs.stack.length);
      for (const v of cs.stack) valInto(h, v);
    }
    valInto(h, this.retVal);
    if (this.after === After.Rv) {
      h.add(this.rvLoc);
      h.addString(this.rvType ?? '');
    }
    const lr = this.x.lastRead;
    if (lr) {
      h.add(lr.loc);
      h.add(lr.val);
    } else h.add(-1);
    const s = this.sub;
    if (!s) {
      h.add(0);
      return;
    }
    const sp = s.spec;
    h.addString(sp.k);
    if (sp.k === 'env') {
      h.addString(sp.name);
      h.add(sp.args.length);
      for (const v of sp.args) valInto(h, v);
    } else if (sp.k === 'rv') valInto(h, sp.v);
    else if (sp.k === 'begin') for (const v of sp.args) valInto(h, v);
    else {
      h.add(sp.token);
      valInto(h, sp.v);
    }
    h.add(s.inputs.length);
    for (const v of s.inputs) inputInto(h, v);
  }

  private makeSub(spec: SubSpec): Routine<Val | number | void> {
    switch (spec.k) {
      case 'env':
        this.x.site = spec.site;
        return ENV[spec.name]!.run(this.x, spec.args);
      case 'rv':
        return rvalue({ k: this.k, site: spec.site }, spec.v);
      case 'begin':
        return this.hooks!.begin(spec.args);
      case 'end':
        return this.hooks!.end(spec.token);
    }
  }

  /** Start a sub-routine; its first effect, or undefined when it ended at once (its value delivered). */
  private startSub(spec: SubSpec): IteratorResult<Effect, Val> | undefined {
    const gen = this.makeSub(spec);
    // Most environment calls end at once (a value, no effect): no sub-routine record then.
    const r = gen.next(undefined);
    if (r.done) return this.subDone(spec, r.value);
    this.sub = { spec, gen, inputs: [], loading: undefined };
    return this.pump(r);
  }

  private pump(r: IteratorResult<Effect, Val | number | void>): IteratorResult<Effect, Val> | undefined {
    const s = this.sub!;
    if (!r.done) {
      s.loading = r.value.k === 'load' && this.code[this.code.length - 1]!.spins ? r.value.loc : undefined;
      return r as IteratorResult<Effect, Val>;
    }
    this.sub = undefined;
    return this.subDone(s.spec, r.value);
  }

  /** A sub-routine ended with `v`: its value goes where its kind says. */
  private subDone(sp: SubSpec, v: Val | number | void): IteratorResult<Effect, Val> | undefined {
    switch (sp.k) {
      case 'env':
        this.top().stack.push(v as Val);
        return undefined;
      case 'rv': {
        const st = this.top().stack;
        st[st.length - 1] = v as Val;
        return undefined;
      }
      case 'begin':
        this.token = v as number;
        return undefined;
      case 'end':
        return this.leave(sp.v);
    }
  }

  private top(): CallState {
    return this.calls[this.calls.length - 1]!;
  }

  /** Enter function `fnName`; its `enter` effect, unless it is inline. */
  private enter(fnName: string, a: readonly Val[]): IteratorResult<Effect, Val> | undefined {
    const fn = this.prog.fns.get(fnName);
    if (!fn) throw new Error(`[tlbcheck bug] no compiled function ${fnName}`);
    const locals: Val[] = new Array<Val>(fn.locals.length).fill(0);
    fn.params.forEach((_, i) => (locals[i] = a[i] ?? 0));
    this.calls.push({ fn: fnName, pc: 0, locals, stack: [] });
    this.code.push(fn);
    this.after = After.Run;
    if (!fn.inline) return { done: false, value: { k: 'enter', fn: fnName } };
    return undefined;
  }

  /** Leave the innermost call with `v`: its `leave` effect, or (inline) return to the caller at once. */
  private leave(v: Val): IteratorResult<Effect, Val> | undefined {
    if (!this.code[this.code.length - 1]!.inline) {
      this.after = After.Leave;
      this.retVal = v;
      return { done: false, value: { k: 'leave' } };
    }
    return this.popCall(v);
  }

  private popCall(v: Val): IteratorResult<Effect, Val> | undefined {
    this.after = After.Run;
    this.retVal = 0;
    this.calls.pop();
    this.code.pop();
    const caller = this.calls[this.calls.length - 1];
    if (!caller) return { done: true, value: v };
    caller.stack.push(v);
    return undefined;
  }

  next(input?: unknown): IteratorResult<Effect, Val> {
    if (this.shared) this.own();
    this.keyValid = false;
    let r: IteratorResult<Effect, Val> | undefined;
    if (this.sub) {
      const s = this.sub;
      if (!s.gen) {
        const gen = this.makeSub(s.spec);
        gen.next(undefined);
        for (const v of s.inputs) gen.next(v);
        s.gen = gen;
      }
      s.inputs.push(input);
      if (s.loading !== undefined) this.x.lastRead = { loc: s.loading, val: input as number };
      r = this.pump(s.gen.next(input));
    } else if (this.after === After.Start) {
      r = this.enter(this.name, this.args);
      if (r === undefined && this.hooks) r = this.startSub({ k: 'begin', args: this.args });
      else if (r !== undefined && this.hooks) {
        // The hook's begin runs right after the entry's `enter`: mark it to start next.
        this.pendingBegin = true;
      }
    } else if (this.after === After.Rv) {
      this.after = After.Run;
      const w = input as number;
      if (this.rvLoc >= 0 && this.code[this.code.length - 1]!.spins) this.x.lastRead = { loc: this.rvLoc, val: w };
      const st = this.top().stack;
      st[st.length - 1] = rvalueOf(this.rvType, w);
    } else if (this.after === After.Leave) {
      r = this.popCall(this.retVal);
    } else if (this.pendingBegin) {
      this.pendingBegin = false;
      r = this.startSub({ k: 'begin', args: this.args });
    }
    return r ?? this.run();
  }

  /** Set between the outermost `enter` and the start of the hooks' begin. */
  private pendingBegin = false;

  /** Run bytecode until the next effect, or the end of the outermost call. */
  private run(): IteratorResult<Effect, Val> {
    const k = this.k;
    const calls = this.calls;
    for (;;) {
      const cs = calls[calls.length - 1]!;
      const fn = this.code[this.code.length - 1]!;
      const st = cs.stack;
      const op = fn.code[cs.pc]!;
      cs.pc++;
      let r: IteratorResult<Effect, Val> | undefined;
      switch (op.o) {
        case 'const':
          st.push(op.v);
          break;
        case 'ld':
          st.push(cs.locals[op.i]!);
          break;
        case 'st':
          cs.locals[op.i] = st.pop()!;
          break;
        case 'stf': {
          const v = st.pop()!;
          const s = cs.locals[op.i]!;
          if (typeof s === 'object' && s.t === 'mm' && op.field === 'pasid') {
            // mm->pasid = v (5.18+ mm_pasid_set): a plain store to the mm's word.
            const m = mmctxField(k, op.site, s.id, 'pasid') as { readonly loc: number };
            if (typeof v !== 'number') throw modelError(op.site, `'${op.site.text}': only integers are stored in mm->pasid`);
            return { done: false, value: storeEffect(m.loc, v, tagOf(op.site)) };
          }
          if (typeof s === 'object' && s.t === 'pcpu' && s.cpu === undefined) {
            // tlb_ubc->flush_required = v with tlb_ubc = &current->tlb_ubc: a word of the task.
            const t = taskVarLoc(k, op.site, `${s.path}.${op.field}`);
            if (t !== undefined) {
              if (typeof v !== 'number') throw modelError(op.site, `'${op.site.text}': only integers are stored in a task field`);
              return { done: false, value: storeEffect(t, v, tagOf(op.site)) };
            }
          }
          if (typeof s === 'object' && s.t === 'lref') {
            // p->field = v where p points at a local struct of a caller (or the per-CPU scratch
            // struct, see EnvCtx.scratch): the store lands in that struct, as through a pointer.
            const target = calls[s.f]!.locals[s.i]!;
            if (typeof target !== 'object' || target.t !== 'struct') throw modelError(op.site, `'${op.site.text}': field store through a pointer to something that is not a struct`);
            calls[s.f]!.locals[s.i] = { t: 'struct', f: { ...target.f, [op.field]: v } };
            break;
          }
          if (typeof s !== 'object' || s.t !== 'struct') throw modelError(op.site, `'${op.site.text}': field store into something that is not a struct`);
          cs.locals[op.i] = { t: 'struct', f: { ...s.f, [op.field]: v } };
          break;
        }
        case 'mkf': {
          const v = st.pop()!;
          const s = st.pop()!;
          if (typeof s !== 'object' || s.t !== 'struct') throw new Error('[tlbcheck bug] mkf on a non-struct');
          st.push({ t: 'struct', f: { ...s.f, [op.field]: v } });
          break;
        }
        case 'lref':
          st.push({ t: 'lref', f: calls.length - 1, i: op.i });
          break;
        case 'stind': {
          const v = st.pop()!;
          const ref = st.pop()!;
          if (typeof ref !== 'object' || ref.t !== 'lref') throw modelError(op.site, `'${op.site.text}': store through a pointer that is not the address of a local`);
          calls[ref.f]!.locals[ref.i] = v;
          st.push(v);
          break;
        }
        case 'pop':
          st.pop();
          break;
        case 'dup':
          st.push(st[st.length - 1]!);
          break;
        case 'jmp':
          cs.pc = op.t;
          break;
        case 'jz':
          if (!truthy(st.pop()!)) cs.pc = op.t;
          break;
        case 'jnz':
          if (truthy(st.pop()!)) cs.pc = op.t;
          break;
        case 'un':
          st.push(unop(op.site, op.op, st.pop()!));
          break;
        case 'bin': {
          const b = st.pop()!;
          st.push(bin(op.site, op.op, st.pop()!, b));
          break;
        }
        case 'field': {
          let base = st.pop()!;
          // p->field where p is the address of a local struct (&info): read through it.
          if (typeof base === 'object' && base.t === 'lref') base = calls[base.f]!.locals[base.i]!;
          // 5.18+ keeps the PASID in mm_struct itself (mm->pasid), older code in mm->context.
          const ctxOf = typeof base === 'object' && (base.t === 'mmctx' || (base.t === 'mm' && op.name === 'pasid')) ? base.id : undefined;
          const mmVar = typeof base === 'object' && base.t === 'mm' ? mmFieldVar(k, op.site, base.id, op.name) : undefined;
          const v = mmVar ?? (ctxOf !== undefined ? mmctxField(k, op.site, ctxOf, op.name) : fieldOf(op.site, base, op.name));
          if (typeof v === 'object' && (v as { t: string }).t === 'field-of') {
            // A field the variant adds to struct mm_struct (mm-fields=): a shared word.
            const own = typeof base === 'object' && base.t === 'mm' ? k.L.findVar(`${k.L.mmName(base.id)}.${op.name}`) : undefined;
            if (own !== undefined) {
              st.push({ t: 'mem', loc: own, what: 'word' });
              break;
            }
            throw modelError(op.site, `'${op.site.text}': field '${op.name}' of a ${(base as { t: string }).t} is not in the model`);
          }
          st.push(v);
          break;
        }
        case 'index': {
          const i = st.pop()!;
          const base = st.pop()!;
          if (typeof base !== 'object' || base.t !== 'pcpu' || typeof i !== 'number') throw modelError(op.site, `'${op.site.text}': only per-CPU arrays are indexed`);
          st.push({ ...base, path: `${base.path}[${i}]` });
          break;
        }
        case 'addr': {
          const v = st.pop()!;
          // &tlb_ubc->arch.cpumask: the address of a task word the scenario declares.
          if (typeof v === 'object' && v.t === 'pcpu' && v.cpu === undefined && v.path.startsWith('current.tlb_ubc.') && k.L.hasVar(`cpu${k.cpu}.${v.path.slice('current.'.length)}`)) {
            st.push({ t: 'mem', loc: taskVarLoc(k, op.site, v.path)!, what: 'ptr' });
            break;
          }
          // &last_mm_ctx_id (4.13+ arch/x86/mm/tlb.c): the scenario's counter word.
          if (typeof v === 'object' && v.t === 'pcpu' && v.path === 'last_mm_ctx_id') {
            const loc = k.L.findVar('last_mm_ctx_id');
            if (loc === undefined) throw modelError(op.site, `'${op.site.text}': this scenario allocates no mm (last_mm_ctx_id is not in its state)`);
            st.push({ t: 'mem', loc, what: 'ptr' });
            break;
          }
          st.push(typeof v === 'object' && v.t === 'mem' && (v.what === 'word' || v.what === 'fixed') ? { ...v, what: 'ptr' } : v);
          break;
        }
        case 'deref': {
          const v = st.pop()!;
          if (typeof v === 'object' && v.t === 'mem' && v.what === 'ptr') st.push({ ...v, what: 'word' });
          else if (typeof v === 'object' && v.t === 'struct') st.push(v);
          else if (typeof v === 'object' && v.t === 'lref') st.push(calls[v.f]!.locals[v.i]!);
          else throw modelError(op.site, `'${op.site.text}': dereference of a ${typeof v === 'object' ? v.t : 'number'}`);
          break;
        }
        case 'rv': {
          const v = st[st.length - 1]!;
          if (typeof v !== 'object' || (v.t !== 'mem' && v.t !== 'pcpu')) break;
          // The common cases are one read, yielded here; the rest run `rvalue` as a routine.
          const rd = rvalueRead(k, op.site, v);
          if (!rd) {
            // A place (a pointer or mask, a per-CPU struct) converts to itself, without a routine.
            if (rvalueLoadsBatch(k, v)) r = this.startSub({ k: 'rv', site: op.site, v });
            break;
          }
          this.after = After.Rv;
          this.rvType = rd.type;
          if (rd.fixed) {
            this.rvLoc = -1;
            return { done: false, value: { k: 'read-fixed', loc: rd.loc } };
          }
          this.rvLoc = rd.loc;
          const tag = tagOf(op.site);
          return { done: false, value: tag === undefined ? { k: 'load', loc: rd.loc } : { k: 'load', loc: rd.loc, at: { tag } } };
        }
        case 'env': {
          // The environment gets a pointer to a local struct as the struct itself: a cross-call
          // hands it to other CPUs, which cannot see this call's locals (the sender waits, so
          // the copy is what they would read).
          const a = st.splice(st.length - op.argc, op.argc).map((v) => {
            if (typeof v !== 'object' || v.t !== 'lref') return v;
            const target = calls[v.f]!.locals[v.i]!;
            return typeof target === 'object' && target.t === 'struct' ? target : v;
          });
          for (const d of fn.dead[cs.pc - 1]!) cs.locals[d] = 0;
          r = this.startSub({ k: 'env', name: op.name, site: op.site, args: a });
          break;
        }
        case 'call': {
          const a = st.splice(st.length - op.argc, op.argc);
          for (const d of fn.dead[cs.pc - 1]!) cs.locals[d] = 0;
          r = this.enter(op.fn, a);
          break;
        }
        case 'calli': {
          const f = st.pop()!;
          if (typeof f !== 'object' || f.t !== 'fn') throw modelError(op.site, `'${op.site.text}': the called value is not a function of the C files`);
          const a = st.splice(st.length - op.argc, op.argc);
          for (const d of fn.dead[cs.pc - 1]!) cs.locals[d] = 0;
          r = this.enter(f.name, a);
          break;
        }
        case 'ret':
        case 'retv': {
          const v = op.o === 'ret' ? st.pop()! : 0;
          if (calls.length === 1 && this.hooks) r = this.startSub({ k: 'end', token: this.token, v });
          else r = this.leave(v);
          break;
        }
      }
      if (r !== undefined) return r;
    }
  }
}

/** The effect of a plain store, as `fx.store` yields it. */
function storeEffect(loc: number, val: number, tag: string | undefined): Effect {
  return tag === undefined ? { k: 'store', loc, val } : { k: 'store', loc, val, at: { tag } };
}

const KEY = new Uint32Array(2);
/** Hash a kernel value: numbers as they are, pointers by their tag and fields. */
function valInto(h: Hasher, v: Val): void {
  if (typeof v === 'number') {
    h.add(v);
    return;
  }
  h.addString(v.t);
  switch (v.t) {
    case 'mm':
    case 'mmctx':
    case 'pgd':
      h.add(v.id);
      break;
    case 'pcpu':
      h.addString(v.path);
      h.add(v.cpu ?? -1);
      break;
    case 'mem':
      h.add(v.loc);
      h.addString(v.what);
      break;
    case 'struct':
      for (const key in v.f) {
        h.addString(key);
        valInto(h, v.f[key]!);
      }
      h.add(-2);
      break;
    case 'fn':
    case 'feat':
    case 'key':
      h.addString(v.name);
      break;
    case 'lref':
      h.add(v.f);
      h.add(v.i);
      break;
    case 'cr3':
      h.add(v.root);
      h.add(v.pcid);
      h.add(v.noflush ? 1 : 0);
      break;
  }
}

/** Hash a value fed back to a routine (a loaded word, an access result, a sub-call's value). */
function inputInto(h: Hasher, v: unknown): void {
  if (v === undefined) h.add(0x7f000001);
  else if (typeof v === 'number') h.add(v);
  else if (typeof v === 'boolean') h.add(v ? 0x7f000003 : 0x7f000002);
  else if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) {
      if (typeof x === 'number') h.add(x);
      else if (typeof x === 'string') h.addString(x);
      else h.add(x ? 1 : 0);
    }
    h.add(0x7f000004);
  } else throw new Error(`[tlbcheck bug] unhashable routine input ${String(v)}`);
}

/**
 * Run C function `name` with `args` on the CPU of `k`, as one routine. `hooks` wrap the outermost
 * call: `begin` right after entering it, `end` right before leaving it. `taken`: the IPI
 * handler's cross-calls, as its interrupt entry took them (the environment's `tlbcheck_llist_*`).
 */
export function runC(prog: CProgram, k: K<CoreRoutines>, name: string, args: readonly Val[], hooks?: EntryHooks, taken?: readonly CrossCall[]): Routine<Val> {
  return new CRun(prog, k, name, args, hooks, taken) as unknown as Routine<Val>;
}

/** Whether `g` is a running C routine (it can be forked and keyed without replay). */
export function isCRun(g: unknown): g is CRun {
  return g instanceof CRun;
}

export { NO_SITE };
