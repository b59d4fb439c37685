/**
 * Compile a parsed C file to bytecode (ir.ts): one `CFunction` per function definition. Only
 * the constructs below are accepted; anything else is `file:line:col: <construct> is not
 * supported (...)`. Names resolve, in order, to: a macro parameter, a local, a macro, a
 * function of the program, the kernel environment (env-table.ts), the variant's no-op list.
 * Anything else is an error naming the name and the place.
 *
 * This file is one recursive compiler over the statement and expression node types; it is
 * long because the cases belong together.
 */
import { UserError } from '../errors.ts';
import { type CFunction, type Op, type SrcSite, uniformOps } from './ir.ts';
import type { Macro } from './preproc.ts';
import { type Node, lineCol } from './parser.ts';
import { ENV, envConstant } from './env-table.ts';
import { deadLocals } from './liveness.ts';

export interface Unit {
  readonly file: string;
  readonly root: Node;
  readonly src: string;
  readonly macros: ReadonlyMap<string, Macro>;
  /** `CONFIG_*` options that are set, for `IS_ENABLED()` in C expressions. */
  readonly config: ReadonlySet<string>;
}

export interface Names {
  /** Functions the whole program defines (base plus patch). */
  readonly functions: ReadonlySet<string>;
  readonly noop: ReadonlySet<string>;
  /** Per-CPU variables the program defines itself (DEFINE_PER_CPU). */
  readonly pcpu?: ReadonlySet<string>;
}

const unsupported = (file: string, n: Node, what: string, why: string): UserError => {
  const { line, col } = lineCol(n);
  return new UserError(`${file}:${line}:${col}: ${what} is not supported (${why})`);
};

/** Function definitions of a unit, by name, with whether they are `inline`. */
export function functionDefs(u: Unit): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const n of u.root.namedChildren) {
    if (n?.type !== 'function_definition') continue;
    const name = functionName(n);
    if (name) out.set(name, n);
  }
  return out;
}

/** The name a function definition defines. */
export const functionName = (n: Node): string | undefined => declName(n.childForFieldName('declarator'));

function declName(d: Node | null | undefined): string | undefined {
  let n = d;
  while (n && n.type !== 'identifier') n = n.childForFieldName('declarator');
  return n?.text;
}

/** Trailing comments by line: the tag of an effect called on that line. */
function trailingComments(u: Unit): Map<number, string> {
  const known = TAGS_OF_UNIT.get(u.root);
  if (known) return known;
  const lines = u.src.split('\n');
  const out = new Map<number, string>();
  const walk = (n: Node): void => {
    if (n.type === 'comment') {
      const row = n.startPosition.row;
      const before = (lines[row] ?? '').slice(0, n.startPosition.column);
      if (before.trim() !== '') out.set(row + 1, n.text.replace(/^\/\*+|\*+\/$|^\/\//g, '').trim());
      return;
    }
    for (const c of n.children) if (c) walk(c);
  };
  walk(u.root);
  TAGS_OF_UNIT.set(u.root, out);
  return out;
}
/**
 * A unit's trailing comments, found once per parsed file rather than once per function in it
 * (keyed by the syntax tree, which the variants that link the same file share: program.ts).
 */
const TAGS_OF_UNIT = new WeakMap<Node, Map<number, string>>();

interface Loop {
  breaks: { o: 'jmp'; t: number }[];
  continues: { o: 'jmp'; t: number }[];
  /** A switch: `break` leaves it, `continue` belongs to the loop around it. */
  readonly isSwitch?: true;
}

class FnCompiler {
  readonly code: Op[] = [];
  readonly locals: string[] = [];
  private readonly scopes: Map<string, number>[] = [new Map()];
  private readonly subst: Map<string, Node>[] = [];
  private readonly loops: Loop[] = [];
  /** Labels of the function (goto targets) and the gotos still waiting for theirs. */
  private readonly labels = new Map<string, number>();
  private readonly gotos: { label: string; jmp: { o: 'jmp'; t: number }; node: Node }[] = [];
  /** The macro use being expanded: its position stands for nodes of the macro body. */
  private at: Node | undefined;
  private depth = 0;

  constructor(
    private readonly u: Unit,
    private readonly names: Names,
    private readonly tags: Map<number, string>,
  ) {}

  err(n: Node, what: string, why: string): UserError {
    return unsupported(this.u.file, this.at ?? n, what, why);
  }

  site(n: Node): SrcSite {
    const p = this.at ?? n;
    const { line, col } = lineCol(p);
    const tag = this.tags.get(line);
    return { file: this.u.file, line, col, text: p.text.replace(/\s+/g, ' '), ...(tag === undefined ? {} : { tag }) };
  }

  emit(op: Op): number {
    this.code.push(op);
    return this.code.length - 1;
  }

  local(name: string): number {
    const i = this.locals.length;
    this.locals.push(name);
    this.scopes[this.scopes.length - 1]!.set(name, i);
    return i;
  }

  lookup(name: string): number | undefined {
    for (let s = this.scopes.length - 1; s >= 0; s--) {
      const i = this.scopes[s]!.get(name);
      if (i !== undefined) return i;
    }
    return undefined;
  }

  // ------------------------------------------------------------------ statements

  stmt(n: Node): void {
    switch (n.type) {
      case 'comment':
      case ';':
        return;
      case 'compound_statement':
        this.scopes.push(new Map());
        for (const c of n.namedChildren) if (c) this.stmt(c);
        this.scopes.pop();
        return;
      case 'declaration':
        return this.declaration(n);
      case 'expression_statement': {
        const e = n.namedChild(0);
        if (!e) return;
        this.expr(e);
        this.emit({ o: 'pop' });
        return;
      }
      case 'if_statement': {
        // A branch under a constant false condition (IS_ENABLED of an unset option) is not
        // compiled at all: the kernel's compiler drops it too, so what it calls need not exist.
        const known = this.constCond(n.childForFieldName('condition')!);
        if (known !== undefined) {
          const alt = n.childForFieldName('alternative');
          if (known) this.stmt(n.childForFieldName('consequence')!);
          else if (alt) this.stmt(alt.type === 'else_clause' ? alt.namedChild(0)! : alt);
          return;
        }
        this.cond(n.childForFieldName('condition')!);
        const jz = { o: 'jz' as const, t: -1 };
        this.emit(jz);
        this.stmt(n.childForFieldName('consequence')!);
        const alt = n.childForFieldName('alternative');
        if (alt) {
          const jmp = { o: 'jmp' as const, t: -1 };
          this.emit(jmp);
          jz.t = this.code.length;
          // tree-sitter-c wraps the else branch in an else_clause.
          this.stmt(alt.type === 'else_clause' ? alt.namedChild(0)! : alt);
          jmp.t = this.code.length;
        } else {
          jz.t = this.code.length;
        }
        return;
      }
      case 'while_statement': {
        const top = this.code.length;
        this.cond(n.childForFieldName('condition')!);
        const jz = { o: 'jz' as const, t: -1 };
        this.emit(jz);
        this.loopBody(n.childForFieldName('body')!, top, () => this.emit({ o: 'jmp', t: top }));
        jz.t = this.code.length;
        this.closeLoop(top);
        return;
      }
      case 'do_statement': {
        const top = this.code.length;
        const loop = this.openLoop();
        this.stmt(n.childForFieldName('body')!);
        const contAt = this.code.length;
        this.cond(n.childForFieldName('condition')!);
        this.emit({ o: 'jnz', t: top });
        for (const c of loop.continues) c.t = contAt;
        this.closeLoop(contAt);
        return;
      }
      case 'for_statement': {
        this.scopes.push(new Map());
        const init = n.childForFieldName('initializer');
        if (init) {
          if (init.type === 'declaration') this.declaration(init);
          else {
            this.expr(init);
            this.emit({ o: 'pop' });
          }
        }
        const top = this.code.length;
        const c = n.childForFieldName('condition');
        const jz = { o: 'jz' as const, t: -1 };
        if (c) {
          this.cond(c);
          this.emit(jz);
        }
        const upd = n.childForFieldName('update');
        const loop = this.openLoop();
        this.stmt(n.childForFieldName('body')!);
        const contAt = this.code.length;
        for (const x of loop.continues) x.t = contAt;
        if (upd) {
          this.expr(upd);
          this.emit({ o: 'pop' });
        }
        this.emit({ o: 'jmp', t: top });
        jz.t = this.code.length;
        this.closeLoop(contAt);
        this.scopes.pop();
        return;
      }
      case 'break_statement': {
        const l = this.loops[this.loops.length - 1];
        if (!l) throw this.err(n, 'break outside a loop or switch', '');
        const j = { o: 'jmp' as const, t: -1 };
        l.breaks.push(j);
        this.emit(j);
        return;
      }
      case 'continue_statement': {
        const l = [...this.loops].reverse().find((x) => !x.isSwitch);
        if (!l) throw this.err(n, 'continue outside a loop', '');
        const j = { o: 'jmp' as const, t: -1 };
        l.continues.push(j);
        this.emit(j);
        return;
      }
      case 'return_statement': {
        const e = n.namedChild(0);
        if (e && e.type !== 'comment') {
          this.rvalue(e);
          this.emit({ o: 'ret' });
        } else this.emit({ o: 'retv' });
        return;
      }
      case 'goto_statement': {
        // `goto done;` (the kernel's single exit, e.g. flush_tlb_func in 5.x-6.x): a jump to
        // the label, resolved when the function is complete (finishLabels).
        const label = n.childForFieldName('label')!.text;
        const jmp = { o: 'jmp' as const, t: this.labels.get(label) ?? -1 };
        if (jmp.t < 0) this.gotos.push({ label, jmp, node: n });
        this.emit(jmp);
        return;
      }
      case 'labeled_statement': {
        const label = n.childForFieldName('label')!.text;
        if (this.labels.has(label)) throw this.err(n, `a second label '${label}'`, 'a label names one place of its function');
        this.labels.set(label, this.code.length);
        for (const c of n.namedChildren.slice(1)) if (c) this.stmt(c);
        return;
      }
      case 'switch_statement':
        return this.switchStmt(n);
      default:
        throw this.err(n, `${n.type.replace(/_/g, ' ')}`, 'outside the kernel C subset tlbcheck compiles; see README "Writing a patch in C"');
    }
  }

  /** Point every goto at its label; a goto to no label is the user's error. */
  finishLabels(): void {
    for (const g of this.gotos) {
      const t = this.labels.get(g.label);
      if (t === undefined) throw this.err(g.node, `goto to a label the function does not define ('${g.label}')`, '');
      g.jmp.t = t;
    }
  }

  /**
   * `switch (x) { case A: ... default: ... }` as C runs it: the value is computed once (into a
   * hidden local), compared with each case value in order, and control enters the first match
   * (or `default`, or leaves) and falls through the cases below until a `break`.
   */
  private switchStmt(n: Node): void {
    const tmp = this.local(`switch@${lineCol(n).line}:${lineCol(n).col}`);
    this.cond(n.childForFieldName('condition')!);
    this.emit({ o: 'st', i: tmp });
    const cases = (n.childForFieldName('body')?.namedChildren ?? []).filter((c): c is Node => c !== null && c.type !== 'comment');
    const entry: { o: 'jnz'; t: number }[] = [];
    let deflt = -1;
    cases.forEach((c, k) => {
      if (c.type !== 'case_statement') throw this.err(c, 'a statement before the first case of a switch', '');
      const value = c.childForFieldName('value');
      if (!value) {
        deflt = k;
        return;
      }
      this.emit({ o: 'ld', i: tmp });
      this.rvalue(value);
      this.emit({ o: 'bin', op: '==', site: this.site(value) });
      const j = { o: 'jnz' as const, t: -1 };
      entry[k] = j;
      this.emit(j);
    });
    const noMatch = { o: 'jmp' as const, t: -1 };
    this.emit(noMatch);
    const l: Loop = { breaks: [], continues: [], isSwitch: true };
    this.loops.push(l);
    this.scopes.push(new Map());
    cases.forEach((c, k) => {
      const at = this.code.length;
      if (k === deflt) noMatch.t = at;
      else entry[k]!.t = at;
      const value = c.childForFieldName('value');
      for (const st of c.namedChildren) if (st && st.id !== value?.id && st.type !== 'comment') this.stmt(st);
    });
    this.scopes.pop();
    this.loops.pop();
    if (deflt < 0) noMatch.t = this.code.length;
    for (const b of l.breaks) b.t = this.code.length;
  }

  private openLoop(): Loop {
    const l: Loop = { breaks: [], continues: [] };
    this.loops.push(l);
    return l;
  }

  private loopBody(body: Node, contAt: number, back: () => void): void {
    const l = this.openLoop();
    this.stmt(body);
    for (const c of l.continues) c.t = contAt;
    back();
  }

  private closeLoop(_contAt: number): void {
    const l = this.loops.pop()!;
    for (const b of l.breaks) b.t = this.code.length;
  }

  private declaration(n: Node): void {
    for (const d of n.childrenForFieldName('declarator')) {
      if (!d) continue;
      if (d.type === 'init_declarator') {
        const name = declName(d.childForFieldName('declarator'));
        if (!name) throw this.err(d, 'this declarator', 'one named variable per declarator');
        const value = d.childForFieldName('value')!;
        if (value.type === 'initializer_list') this.initList(value);
        else this.rvalue(value);
        this.emit({ o: 'st', i: this.local(name) });
      } else {
        const name = declName(d);
        if (!name) throw this.err(d, 'this declarator', 'one named variable per declarator');
        if (d.type === 'array_declarator') throw this.err(d, 'a local array', 'use scalars or a struct');
        this.local(name);
        // A declared but uninitialised local reads as 0 (the model has no undefined values);
        // a struct starts with every field 0.
        const isStruct = n.childForFieldName('type')?.type === 'struct_specifier' && d.type === 'identifier';
        this.emit({ o: 'const', v: isStruct ? { t: 'struct', f: {} } : 0 });
        this.emit({ o: 'st', i: this.lookup(name)! });
      }
    }
  }

  /** `{ .mm = mm, .start = start }`: a struct value. */
  private initList(n: Node): void {
    this.emit({ o: 'const', v: { t: 'struct', f: {} } });
    for (const item of n.namedChildren) {
      if (!item || item.type === 'comment') continue;
      if (item.type !== 'initializer_pair') throw this.err(item, 'a positional initializer', 'use designated initializers (.field = value)');
      const des = item.childForFieldName('designator');
      if (des?.type !== 'field_designator') throw this.err(item, 'this designator', 'only .field = value');
      this.rvalue(item.childForFieldName('value')!);
      this.emit({ o: 'mkf', field: des.text.replace(/^\./, '') });
    }
  }

  // ------------------------------------------------------------------ expressions

  /** A condition: a value of whatever type, tested for truth. */
  cond(n: Node): void {
    this.rvalue(n.type === 'parenthesized_expression' ? n.namedChild(0)! : n);
  }

  rvalue(n: Node): void {
    this.expr(n);
    this.emit({ o: 'rv', site: this.site(n) });
  }

  expr(n: Node): void {
    switch (n.type) {
      case 'parenthesized_expression':
        return this.expr(n.namedChild(0)!);
      case 'number_literal': {
        const t = n.text.replace(/[uUlL]+$/, '');
        this.emit({ o: 'const', v: t.startsWith('0x') || t.startsWith('0X') ? Number.parseInt(t, 16) : Number.parseInt(t, 10) });
        return;
      }
      case 'true':
        this.emit({ o: 'const', v: 1 });
        return;
      case 'false':
      case 'null':
        this.emit({ o: 'const', v: 0 });
        return;
      case 'identifier':
        return this.ident(n);
      case 'field_expression': {
        this.expr(n.childForFieldName('argument')!);
        this.emit({ o: 'field', name: n.childForFieldName('field')!.text, site: this.site(n) });
        return;
      }
      case 'subscript_expression': {
        this.expr(n.childForFieldName('argument')!);
        this.rvalue(n.childForFieldName('index')!);
        this.emit({ o: 'index', site: this.site(n) });
        return;
      }
      case 'pointer_expression': {
        const op = n.childForFieldName('operator')!.text;
        const arg = n.childForFieldName('argument')!;
        const li = op === '&' && arg.type === 'identifier' && !this.isSubst(arg.text) ? this.lookup(arg.text) : undefined;
        if (li !== undefined) {
          // The address of a local: an out-parameter such as choose_new_asid(..., &new_asid).
          this.emit({ o: 'lref', i: li });
          return;
        }
        this.expr(arg);
        this.emit(op === '&' ? { o: 'addr', site: this.site(n) } : { o: 'deref', site: this.site(n) });
        return;
      }
      case 'cast_expression': {
        this.expr(n.childForFieldName('value')!);
        // (unsigned long)mm: an mm pointer as an integer is its address (other values pass as they are).
        const type = n.childForFieldName('type')?.text ?? '';
        if (!type.includes('*') && /^(?:unsigned\s+long|long|u64|unsigned\s+long\s+long|uintptr_t)$/.test(type.trim())) this.emit({ o: 'un', op: '(ulong)', site: this.site(n) });
        return;
      }
      case 'unary_expression': {
        this.rvalue(n.childForFieldName('argument')!);
        this.emit({ o: 'un', op: n.childForFieldName('operator')!.text, site: this.site(n) });
        return;
      }
      case 'binary_expression':
        return this.binary(n);
      case 'conditional_expression': {
        this.cond(n.childForFieldName('condition')!);
        const jz = { o: 'jz' as const, t: -1 };
        this.emit(jz);
        this.rvalue(n.childForFieldName('consequence')!);
        const j = { o: 'jmp' as const, t: -1 };
        this.emit(j);
        jz.t = this.code.length;
        this.rvalue(n.childForFieldName('alternative')!);
        j.t = this.code.length;
        return;
      }
      case 'assignment_expression':
        return this.assign(n);
      case 'update_expression': {
        const arg = n.childForFieldName('argument')!;
        const i = arg.type === 'identifier' ? this.lookup(arg.text) : undefined;
        if (i === undefined) throw this.err(n, '++/-- on anything but a local', arg.text);
        const op = n.childForFieldName('operator')!.text === '++' ? '+' : '-';
        const prefix = n.firstChild?.type === '++' || n.firstChild?.type === '--';
        this.emit({ o: 'ld', i });
        if (!prefix) this.emit({ o: 'dup' });
        this.emit({ o: 'const', v: 1 });
        this.emit({ o: 'bin', op, site: this.site(n) });
        if (prefix) this.emit({ o: 'dup' });
        this.emit({ o: 'st', i });
        return;
      }
      case 'comma_expression': {
        this.expr(n.childForFieldName('left')!);
        this.emit({ o: 'pop' });
        this.expr(n.childForFieldName('right')!);
        return;
      }
      case 'call_expression':
        return this.call(n);
      default:
        throw this.err(n, `${n.type.replace(/_/g, ' ')}`, 'outside the kernel C subset tlbcheck compiles');
    }
  }

  private binary(n: Node): void {
    const op = n.childForFieldName('operator')!.text;
    const l = n.childForFieldName('left')!;
    const r = n.childForFieldName('right')!;
    if (op === '&&' || op === '||') {
      // Short circuit: the right side (and its effects) runs only when it decides.
      this.rvalue(l);
      this.emit({ o: 'dup' });
      const j = { o: op === '&&' ? ('jz' as const) : ('jnz' as const), t: -1 };
      this.emit(j);
      this.emit({ o: 'pop' });
      this.rvalue(r);
      j.t = this.code.length;
      this.emit({ o: 'un', op: '!!', site: this.site(n) });
      return;
    }
    this.rvalue(l);
    this.rvalue(r);
    this.emit({ o: 'bin', op, site: this.site(n) });
  }

  private assign(n: Node): void {
    const left = n.childForFieldName('left')!;
    const op = n.childForFieldName('operator')!.text;
    const compound = op === '=' ? undefined : op.slice(0, -1);
    const value = (dup = true): void => {
      if (compound) {
        this.rvalue(left);
        this.rvalue(n.childForFieldName('right')!);
        this.emit({ o: 'bin', op: compound, site: this.site(n) });
      } else this.rvalue(n.childForFieldName('right')!);
      // The assignment's own value stays on the stack (stind leaves it there itself).
      if (dup) this.emit({ o: 'dup' });
    };
    if (left.type === 'identifier') {
      const i = this.lookup(left.text);
      if (i === undefined) throw this.err(left, `assignment to '${left.text}'`, 'only locals are assigned directly; write shared data with WRITE_ONCE/this_cpu_write');
      value();
      this.emit({ o: 'st', i });
      return;
    }
    if (left.type === 'field_expression' && left.childForFieldName('argument')!.type === 'identifier') {
      // s.field = v on a local struct, or p->field = v where the local p holds a struct
      // (pointers to structs are values here: see ir.ts).
      const i = this.lookup(left.childForFieldName('argument')!.text);
      if (i !== undefined) {
        value();
        this.emit({ o: 'stf', i, field: left.childForFieldName('field')!.text, site: this.site(n) });
        return;
      }
    }
    if (left.type === 'pointer_expression' && left.childForFieldName('operator')?.text === '*') {
      // *p = v: p holds the address of a local (an out-parameter).
      this.rvalue(left.childForFieldName('argument')!);
      value(false);
      this.emit({ o: 'stind', site: this.site(n) });
      return;
    }
    throw this.err(left, `assignment to ${left.type.replace(/_/g, ' ')}`, 'only locals and fields of local structs');
  }

  /** `IS_ENABLED(CONFIG_X)` / `IS_BUILTIN(CONFIG_X)`: a constant of the variant's config. */
  configTest(n: Node): boolean | undefined {
    if (n.type !== 'call_expression') return undefined;
    const f = n.childForFieldName('function')?.text;
    if (f !== 'IS_ENABLED' && f !== 'IS_BUILTIN') return undefined;
    const arg = n.childForFieldName('arguments')?.namedChild(0)?.text ?? '';
    return this.u.config.has(arg);
  }

  /**
   * A condition the compiler folds, as the kernel's compiler does: `IS_ENABLED(...)`, `0`, `1`,
   * their negation, and `&&`/`||` whose known side decides (6.x tlb.c:
   * `if (IS_ENABLED(CONFIG_DEBUG_VM) && WARN_ON_ONCE(...))` drops the whole test).
   */
  private constCond(c: Node): boolean | undefined {
    const n = c.type === 'parenthesized_expression' ? c.namedChild(0)! : c;
    if (n.type === 'number_literal') return Number.parseInt(n.text, 10) !== 0;
    if (n.type === 'unary_expression' && n.childForFieldName('operator')?.text === '!') {
      const v = this.constCond(n.childForFieldName('argument')!);
      return v === undefined ? undefined : !v;
    }
    if (n.type === 'binary_expression') {
      const op = n.childForFieldName('operator')?.text;
      if (op === '&&' || op === '||') {
        // Only a decisive left side folds: the right side is then never evaluated.
        const l = this.constCond(n.childForFieldName('left')!);
        if (l === (op === '||')) return l;
      }
      return undefined;
    }
    return this.configTest(n);
  }

  private isSubst(name: string): boolean {
    return this.subst.some((m) => m.has(name));
  }

  private ident(n: Node): void {
    const name = n.text;
    for (let s = this.subst.length - 1; s >= 0; s--) {
      const arg = this.subst[s]!.get(name);
      if (arg) {
        // A macro argument is compiled where it was written, outside the macro's own scope.
        const saved = this.subst.splice(s);
        this.expr(arg);
        this.subst.push(...saved);
        return;
      }
    }
    const i = this.lookup(name);
    if (i !== undefined) {
      this.emit({ o: 'ld', i });
      return;
    }
    const mac = this.u.macros.get(name);
    if (mac && !mac.params) {
      if (!mac.body) throw this.err(n, `empty macro '${name}' used as a value`, `#define at line ${mac.line}`);
      return this.expand(n, mac, []);
    }
    if (this.names.functions.has(name)) {
      this.emit({ o: 'const', v: { t: 'fn', name } });
      return;
    }
    if (this.names.pcpu?.has(name)) {
      this.emit({ o: 'const', v: { t: 'pcpu', path: name } });
      return;
    }
    const c = envConstant(name);
    if (c !== undefined) {
      this.emit({ o: 'const', v: c });
      return;
    }
    const { line, col } = lineCol(this.at ?? n);
    throw new UserError(`${this.u.file}:${line}:${col}: '${name}' is not defined (not a local, macro, function or name of the kernel environment)`);
  }

  private expand(use: Node, mac: Macro, args: Node[]): void {
    if (++this.depth > 40) throw this.err(use, `macro '${mac.name}'`, 'it expands itself');
    const savedAt = this.at;
    this.at ??= use;
    const map = new Map<string, Node>();
    mac.params?.forEach((p, k) => map.set(p, args[k]!));
    this.subst.push(map);
    if (mac.body) this.expr(mac.body);
    else this.emit({ o: 'const', v: 0 });
    this.subst.pop();
    this.at = savedAt;
    this.depth--;
  }

  private call(n: Node): void {
    const f = n.childForFieldName('function')!;
    const args = (n.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is Node => !!a && a.type !== 'comment');
    if (f.type !== 'identifier') throw this.err(f, 'a call through a function pointer expression', 'call functions by name, or through a parameter');
    let name = f.text;
    const held = this.isSubst(name) ? undefined : this.lookup(name);
    if (held !== undefined) {
      // A function pointer held in a local (a parameter such as smp_call_func_t func).
      for (const a of args) this.rvalue(a);
      this.emit({ o: 'ld', i: held });
      this.emit({ o: 'calli', argc: args.length, site: this.site(n) });
      return;
    }
    const cfg = this.configTest(n);
    if (cfg !== undefined) {
      this.emit({ o: 'const', v: cfg ? 1 : 0 });
      return;
    }
    let mac = this.u.macros.get(name);
    // An object-like macro that names a function (tlb.c 5.8+ without CONFIG_PARAVIRT:
    // `#define __flush_tlb_local native_flush_tlb_local`): the call goes to that function.
    for (let hop = 0; mac && !mac.params && mac.body?.type === 'identifier' && hop < 8; hop++) {
      name = mac.body.text;
      mac = this.u.macros.get(name);
    }
    if (mac?.params) {
      if (mac.params.length !== args.length) throw this.err(n, `macro '${name}' with ${args.length} arguments`, `it takes ${mac.params.length}`);
      return this.expand(n, mac, args);
    }
    if (this.names.functions.has(name)) {
      for (const a of args) this.rvalue(a);
      this.emit({ o: 'call', fn: name, argc: args.length, site: this.site(n) });
      return;
    }
    const e = ENV[name];
    if (e?.renamedTo !== undefined && this.names.functions.has(e.renamedTo)) {
      // An old kernel name of a function the program defines under its new name.
      for (const a of args) this.rvalue(a);
      this.emit({ o: 'call', fn: e.renamedTo, argc: args.length, site: this.site(n) });
      return;
    }
    if (e) {
      const arities = e.arity === undefined ? undefined : typeof e.arity === 'number' ? [e.arity] : e.arity;
      if (arities && !arities.includes(args.length)) throw this.err(n, `${name}() with ${args.length} arguments`, `the kernel environment's ${name} takes ${arities.join(' or ')}`);
      args.forEach((a, k) => {
        if (e.lvalueArg === k) {
          // `flags` (local_irq_save, a macro) or `&ptl` (pte_offset_map_lock's out-parameter).
          const arg = a.type === 'pointer_expression' && a.childForFieldName('operator')?.text === '&' ? a.childForFieldName('argument')! : a;
          const i = arg.type === 'identifier' ? this.lookup(arg.text) : undefined;
          if (i === undefined) throw this.err(a, `${name}() on anything but a local`, a.text);
          this.emit({ o: 'lref', i });
        } else if (e.places) this.expr(a);
        else this.rvalue(a);
      });
      this.emit({ o: 'env', name, argc: args.length, site: this.site(n) });
      return;
    }
    if (this.names.noop.has(name)) {
      // Listed by the variant as having no effect on the model (tracing, statistics).
      this.emit({ o: 'const', v: 0 });
      return;
    }
    const { line, col } = lineCol(this.at ?? n);
    throw new UserError(
      `${this.u.file}:${line}:${col}: call to undefined function '${name}' (not defined in the C files, not in the kernel environment; list it in noop= if it has no effect)`,
    );
  }
}

function paramNames(def: Node, file: string): string[] {
  let d = def.childForFieldName('declarator');
  while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
  const out: string[] = [];
  for (const p of d?.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!p || p.type === 'comment') continue;
    if (p.type === 'variadic_parameter') throw unsupported(file, p, 'a variadic function', '');
    const name = declName(p.childForFieldName('declarator'));
    if (name) out.push(name);
    else if (p.text !== 'void') throw unsupported(file, p, 'an unnamed parameter', 'name every parameter');
  }
  return out;
}

/** Compile one function definition. */
export function compileFunction(u: Unit, def: Node, names: Names): CFunction {
  const tags = trailingComments(u);
  const name = declName(def.childForFieldName('declarator'))!;
  const c = new FnCompiler(u, names, tags);
  const params = paramNames(def, u.file);
  for (const p of params) c.local(p);
  c.stmt(def.childForFieldName('body')!);
  c.emit({ o: 'retv' });
  c.finishLabels();
  const inline = def.children.some((x) => x?.type === 'storage_class_specifier' && x.text === 'inline');
  const spins = c.code.some((op) => op.o === 'env' && op.name === 'cpu_relax');
  const fn: CFunction = { name, file: u.file, line: lineCol(def).line, params, locals: c.locals, code: uniformOps(c.code), inline, spins, dead: [] };
  fn.dead = deadLocals(fn);
  return fn;
}
