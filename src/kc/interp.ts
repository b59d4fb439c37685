/**
 * Run compiled C as a kernel routine. The running calls are a stack of `CallState`s, plain
 * data (function, pc, locals, operand stack); this generator only walks the bytecode and
 * yields the effects of the environment entries it meets, so it plugs into the engine like every
 * TypeScript routine does and yields exactly the effects the C asks for.
 *
 * At each effect point (an environment call or a call of another function) the locals that
 * are dead there (liveness, compile.ts) are reset to 0, so `callKey` of two calls that differ
 * only in dead values is the same. The engine of today still identifies a frame by the values
 * fed to it; `callKey` is what a flat state (issue 14) will hash instead.
 */
import { type K, type Routine, store } from '../kernel/fx.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { binop } from './preproc.ts';
import { ENV, type EnvCtx, modelError, rvalue, tagOf } from './env-table.ts';
import { type CFunction, type CallState, type SrcSite, type Val, truthy, valEq } from './ir.ts';

export interface CProgram {
  readonly fns: ReadonlyMap<string, CFunction>;
}

/** Harness bookkeeping around an entry point (ghost flush begin/end), never inside kernel text. */
export interface EntryHooks {
  begin(args: readonly Val[]): Routine<number>;
  end(token: number): Routine;
}

const NO_SITE: SrcSite = { file: '?', line: 0, col: 0, text: '' };

/** A hashable key of a call stack: function, pc and live locals of each call. */
export function callKey(stack: readonly CallState[]): string {
  return JSON.stringify(stack.map((c) => [c.fn, c.pc, c.locals, c.stack]));
}

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
      return k.L.mm(id).ctxId;
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
  if (op === '!') return truthy(v) ? 0 : 1;
  if (op === '!!') return truthy(v) ? 1 : 0;
  if (typeof v !== 'number') throw modelError(site, `'${op}' on a pointer`);
  return op === '-' ? -v : op === '~' ? ~v : v;
}

function bin(site: SrcSite, op: string, a: Val, b: Val): Val {
  if (op === '==') return valEq(a, b) ? 1 : 0;
  if (op === '!=') return valEq(a, b) ? 0 : 1;
  if (typeof a !== 'number' || typeof b !== 'number') {
    throw modelError(site, `'${op}' on a pointer (only == and != compare pointers)`);
  }
  return binop(op, a, b);
}

/**
 * Run C function `name` with `args` on the CPU of `k`, as one routine. `hooks` wrap the outermost
 * call: `begin` right after entering it, `end` right before leaving it.
 */
export function* runC(prog: CProgram, k: K<CoreRoutines>, name: string, args: readonly Val[], hooks?: EntryHooks): Routine<Val> {
  const calls: CallState[] = [];
  /** The compiled function of each call (not part of the state: it follows from `fn`). */
  const code: CFunction[] = [];
  let token = -1;
  const enter = function* (fnName: string, a: readonly Val[]): Routine {
    const fn = prog.fns.get(fnName);
    if (!fn) throw new Error(`[tlbcheck bug] no compiled function ${fnName}`);
    const locals: Val[] = new Array<Val>(fn.locals.length).fill(0);
    fn.params.forEach((_, i) => (locals[i] = a[i] ?? 0));
    calls.push({ fn: fnName, pc: 0, locals, stack: [] });
    code.push(fn);
    if (!fn.inline) yield { k: 'enter', fn: fnName };
  };
  // One context for every environment call of this run; `site` is set per call.
  const x: { -readonly [P in keyof EnvCtx]: EnvCtx[P] } = {
    k,
    site: NO_SITE,
    runC: (kt, f, fa) => runC(prog, kt, f, fa),
    setLocal: (ref, v) => (calls[ref.f]!.locals[ref.i] = v),
    lastRead: undefined,
    // The per-CPU scratch structs live, for the run of this routine, in hidden slots after
    // the locals of its outermost call (which lasts until the flush returns).
    scratch: (slot) => {
      const i = code[0]!.locals.length + slot;
      const base = calls[0]!.locals;
      while (base.length <= i) base.push({ t: 'struct', f: {} });
      return { t: 'lref', f: 0, i };
    },
  };
  /** Forward `g`'s effects, noting its loads in x.lastRead (functions that call cpu_relax only). */
  const noteLoads = function* (g: Routine<Val>): Routine<Val> {
    let r = g.next();
    while (!r.done) {
      const e = r.value;
      const res = yield e;
      if (e.k === 'load') x.lastRead = { loc: e.loc, val: res as number };
      r = g.next(res);
    }
    return r.value;
  };
  yield* enter(name, args);
  if (hooks) token = yield* hooks.begin(args);
  for (;;) {
    const cs = calls[calls.length - 1]!;
    const fn = code[code.length - 1]!;
    const st = cs.stack;
    const op = fn.code[cs.pc]!;
    cs.pc++;
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
          yield* store(m.loc, v, tagOf(op.site));
          break;
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
        const v = ctxOf !== undefined ? mmctxField(k, op.site, ctxOf, op.name) : fieldOf(op.site, base, op.name);
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
        st.push(typeof v === 'object' && v.t === 'mem' && v.what === 'word' ? { ...v, what: 'ptr' } : v);
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
        if (typeof v === 'object' && (v.t === 'mem' || v.t === 'pcpu')) {
          const g = rvalue({ k, site: op.site }, v);
          st[st.length - 1] = fn.spins ? yield* noteLoads(g) : yield* g;
        }
        break;
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
        x.site = op.site;
        const g = ENV[op.name]!.run(x, a);
        st.push(fn.spins ? yield* noteLoads(g) : yield* g);
        break;
      }
      case 'call': {
        const a = st.splice(st.length - op.argc, op.argc);
        for (const d of fn.dead[cs.pc - 1]!) cs.locals[d] = 0;
        yield* enter(op.fn, a);
        break;
      }
      case 'calli': {
        const f = st.pop()!;
        if (typeof f !== 'object' || f.t !== 'fn') throw modelError(op.site, `'${op.site.text}': the called value is not a function of the C files`);
        const a = st.splice(st.length - op.argc, op.argc);
        for (const d of fn.dead[cs.pc - 1]!) cs.locals[d] = 0;
        yield* enter(f.name, a);
        break;
      }
      case 'ret':
      case 'retv': {
        const v = op.o === 'ret' ? st.pop()! : 0;
        if (calls.length === 1 && hooks) yield* hooks.end(token);
        if (!fn.inline) yield { k: 'leave' };
        calls.pop();
        code.pop();
        const caller = calls[calls.length - 1];
        if (!caller) return v;
        caller.stack.push(v);
        break;
      }
    }
  }
}

export { NO_SITE };
