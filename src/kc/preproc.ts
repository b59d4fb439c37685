/**
 * The preprocessor subset kernel TLB code uses: `#if/#ifdef/#ifndef/#elif/#else/#endif` with
 * `defined()` and `IS_ENABLED(CONFIG_...)`, and object-like and simple function-like
 * `#define`. `#include`, `#undef`-free headers and `#pragma` lines are dropped: the kernel
 * environment (env.ts) supplies what headers would.
 *
 * Lines are blanked, never removed, so every position the parser reports is the position in
 * the user's file. Macros are not expanded textually: their bodies are parsed as expressions
 * and expanded when the compiler meets their names (compile.ts), again keeping positions.
 *
 * Simplifications: a `#define` body must be one C expression (or empty); token pasting,
 * stringizing and variadic macros are reported as not supported.
 */
import { UserError } from '../errors.ts';
import type { Node } from './parser.ts';
import { cParser } from './parser.ts';

export interface Macro {
  readonly name: string;
  /** Parameter names of a function-like macro; undefined for an object-like one. */
  readonly params?: readonly string[];
  /** The body parsed as an expression (undefined: empty body). */
  readonly body?: Node;
  readonly line: number;
  /**
   * An object-like macro that stands for nothing or only for storage-class words (`static`,
   * `inline`, `extern`, `notrace`): blanked where it is used, so that a declaration such as
   * tlb.c's `STATIC_NOPV void native_flush_tlb_multi(...)` reads as C either way.
   */
  readonly blank?: true;
}

export interface PreConfig {
  /** `CONFIG_*` options that are set (`=y`). */
  readonly config: ReadonlySet<string>;
  /** `X86_FEATURE_*` names that the machine has (for `#if` on a feature macro, rare). */
  readonly features: ReadonlySet<string>;
}

export interface Preprocessed {
  readonly text: string;
  readonly macros: Map<string, Macro>;
}

const bad = (file: string, line: number, col: number, what: string, why: string): UserError =>
  new UserError(`${file}:${line}:${col}: ${what} is not supported (${why})`);

/** Run the directives of `src`; inactive and directive lines become empty lines. */
export async function preprocess(file: string, src: string, cfg: PreConfig, macros = new Map<string, Macro>()): Promise<Preprocessed> {
  const parser = await cParser();
  const lines = src.split('\n');
  const out: string[] = [];
  /** One entry per open #if: is this branch active, was some branch taken, is the parent active. */
  const stack: { active: boolean; taken: boolean; parent: boolean }[] = [];
  const active = (): boolean => stack.length === 0 || stack[stack.length - 1]!.active;
  const evalIf = (expr: string, line: number): boolean => evalCondition(parser, file, line, expr, cfg, macros);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    const m = /^\s*#\s*(\w+)\s*(.*)$/.exec(line);
    if (!m) {
      out.push(active() ? blankDeclMacros(blankAttributes(line), macros) : '');
      continue;
    }
    // Join continuation lines of a directive, blanking each.
    const first = i;
    let body = m[2]!;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      body = body.replace(/\\$/, '') + ' ' + lines[i + 1]!;
      line = lines[++i]!;
    }
    for (let j = first; j <= i; j++) out.push('');
    body = body.replace(/\/\*.*?\*\//g, ' ').replace(/\/\/.*$/, '').trim();
    const lineNo = first + 1;
    const dir = m[1]!;
    switch (dir) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const parent = active();
        let v = false;
        if (parent) {
          if (dir === 'if') v = evalIf(body, lineNo);
          else v = isDefined(body, cfg, macros) === (dir === 'ifdef');
        }
        stack.push({ active: parent && v, taken: v, parent });
        break;
      }
      case 'elif': {
        const top = stack[stack.length - 1];
        if (!top) throw new UserError(`${file}:${lineNo}:1: #elif without #if`);
        const v = top.parent && !top.taken && evalIf(body, lineNo);
        top.active = v;
        top.taken ||= v;
        break;
      }
      case 'else': {
        const top = stack[stack.length - 1];
        if (!top) throw new UserError(`${file}:${lineNo}:1: #else without #if`);
        top.active = top.parent && !top.taken;
        top.taken = true;
        break;
      }
      case 'endif':
        if (!stack.pop()) throw new UserError(`${file}:${lineNo}:1: #endif without #if`);
        break;
      case 'define':
        if (active()) defineMacro(parser, file, lineNo, body, macros);
        break;
      case 'undef':
        if (active()) macros.delete(body);
        break;
      case 'include':
      case 'pragma':
        break;
      default:
        if (active()) throw bad(file, lineNo, 1, `#${dir}`, 'the preprocessor subset is #if/#ifdef/#ifndef/#elif/#else/#endif/#define/#undef/#include');
    }
  }
  if (stack.length > 0) throw new UserError(`${file}:${lines.length}:1: #if without #endif`);
  return { text: out.join('\n'), macros };
}

/**
 * Kernel annotations that mean nothing to the model (section placement, alignment, sparse
 * address spaces) are blanked with spaces, so columns stay right and the grammar sees C.
 */
const ATTRIBUTES = /\b(__read_mostly|__user|__init|__initdata|__always_inline|noinline|__visible|__ro_after_init)\b|\b__aligned\([^)]*\)/g;

function blankAttributes(line: string): string {
  return line.replace(ATTRIBUTES, (m) => ' '.repeat(m.length));
}

/**
 * Per-CPU variable definitions and exports at file level (include/linux/percpu-defs.h:
 * `DEFINE_PER_CPU`, `DEFINE_PER_CPU_SHARED_ALIGNED`, `DECLARE_PER_CPU...`, and
 * `EXPORT_PER_CPU_SYMBOL[_GPL]`), written on one line. They are blanked: the per-CPU data the
 * model keeps is placed by the environment (env-table.ts PCPU), and a use of a per-CPU variable
 * the model does not keep is still an error at the place of use.
 */
const PERCPU_DECL = /^\s*(static\s+)?((DEFINE|DECLARE)_PER_CPU\w*\s*\([^;]*\)|EXPORT_PER_CPU_SYMBOL\w*\s*\(\s*\w+\s*\))\s*;\s*$/;

/** Storage-class words a declaration-only macro may stand for (see Macro.blank). */
const STORAGE_WORDS = /^((static|inline|extern|notrace|__always_inline)\s*)*$/;

function blankDeclMacros(line: string, macros: ReadonlyMap<string, Macro>): string {
  if (PERCPU_DECL.test(line)) return line.replace(/[^\s]/g, ' ');
  let out = line;
  for (const mac of macros.values()) {
    if (mac.blank && out.includes(mac.name)) out = out.replace(new RegExp(`\\b${mac.name}\\b`, 'g'), ' '.repeat(mac.name.length));
  }
  return out;
}

function isDefined(name: string, cfg: PreConfig, macros: ReadonlyMap<string, Macro>): boolean {
  return macros.has(name) || cfg.config.has(name) || (name.startsWith('X86_FEATURE_') && cfg.features.has(name));
}

type Parser = Awaited<ReturnType<typeof cParser>>;

/** Parse `text` as one C expression; returns its node (positions are in the wrapper). */
export function parseExpr(parser: Parser, text: string): Node | undefined {
  const tree = parser.parse(`int __tlbcheck = (${text}\n);`);
  if (!tree || tree.rootNode.hasError) return undefined;
  const decl = tree.rootNode.namedChild(0);
  const init = decl?.childForFieldName('declarator');
  const value = init?.childForFieldName('value');
  return value?.type === 'parenthesized_expression' ? (value.namedChild(0) ?? undefined) : undefined;
}

function defineMacro(parser: Parser, file: string, line: number, body: string, macros: Map<string, Macro>): void {
  const m = /^(\w+)(\(([^)]*)\))?\s*(.*)$/.exec(body);
  if (!m) throw bad(file, line, 1, '#define of this form', 'expected NAME or NAME(args) and a body');
  const [, name, paren, params, rest] = m;
  if (/##|#\s*\w|\.\.\./.test(`${params ?? ''} ${rest}`)) throw bad(file, line, 1, 'token pasting, stringizing or a variadic macro', `in #define ${name}`);
  const text = rest!.trim();
  if (paren === undefined && STORAGE_WORDS.test(text)) {
    macros.set(name!, { name: name!, line, blank: true });
    return;
  }
  let node: Node | undefined;
  if (text !== '') {
    node = parseExpr(parser, text);
    if (!node) throw bad(file, line, 1, `a #define body that is not one expression`, `#define ${name} ${text}`);
  }
  const ps = paren === undefined ? undefined : params!.split(',').map((p) => p.trim()).filter((p) => p !== '');
  macros.set(name!, { name: name!, ...(ps ? { params: ps } : {}), ...(node ? { body: node } : {}), line });
}

/** Value of an `#if` condition. */
function evalCondition(parser: Parser, file: string, line: number, expr: string, cfg: PreConfig, macros: ReadonlyMap<string, Macro>): boolean {
  const text = expr.replace(/defined\s+(\w+)/g, 'defined($1)');
  const node = parseExpr(parser, text);
  if (!node) throw new UserError(`${file}:${line}:1: cannot parse #if condition '${expr}'`);
  const ev = (n: Node, depth: number): number => {
    if (depth > 50) throw new UserError(`${file}:${line}:1: #if condition recurses through macros`);
    switch (n.type) {
      case 'number_literal':
        return Number.parseInt(n.text.replace(/[uUlL]+$/, ''), n.text.startsWith('0x') ? 16 : 10);
      case 'true':
        return 1;
      case 'false':
        return 0;
      case 'parenthesized_expression':
        return ev(n.namedChild(0)!, depth);
      case 'identifier': {
        const mac = macros.get(n.text);
        if (mac?.body) return ev(mac.body, depth + 1);
        if (mac) return 1;
        return cfg.config.has(n.text) || cfg.features.has(n.text) ? 1 : 0;
      }
      case 'call_expression': {
        const fn = n.childForFieldName('function')?.text;
        const arg = n.childForFieldName('arguments')?.namedChild(0)?.text ?? '';
        if (fn === 'defined') return isDefined(arg, cfg, macros) ? 1 : 0;
        if (fn === 'IS_ENABLED' || fn === 'IS_BUILTIN') return cfg.config.has(arg) ? 1 : 0;
        throw bad(file, line, 1, `'${fn}(...)' in #if`, 'only defined() and IS_ENABLED()');
      }
      case 'unary_expression': {
        const v = ev(n.childForFieldName('argument')!, depth);
        const op = n.childForFieldName('operator')?.text;
        return op === '!' ? (v ? 0 : 1) : op === '-' ? -v : op === '~' ? ~v : v;
      }
      case 'binary_expression': {
        const a = ev(n.childForFieldName('left')!, depth);
        const op = n.childForFieldName('operator')!.text;
        if (op === '&&') return a && ev(n.childForFieldName('right')!, depth) ? 1 : 0;
        if (op === '||') return a || ev(n.childForFieldName('right')!, depth) ? 1 : 0;
        return binop(op, a, ev(n.childForFieldName('right')!, depth));
      }
      case 'conditional_expression':
        return ev(n.childForFieldName('condition')!, depth)
          ? ev(n.childForFieldName('consequence')!, depth)
          : ev(n.childForFieldName('alternative')!, depth);
      default:
        throw bad(file, line, 1, `${n.type} in #if`, expr);
    }
  };
  return ev(node, 0) !== 0;
}

/** Integer binary operators shared by `#if` and the interpreter. */
export function binop(op: string, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? 0 : Math.trunc(a / b);
    case '%':
      return b === 0 ? 0 : a % b;
    case '<<':
      return a * 2 ** b;
    case '>>':
      return Math.floor(a / 2 ** b);
    case '&':
      return a & b;
    case '|':
      return a | b;
    case '^':
      return a ^ b;
    case '<':
      return a < b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    default:
      throw new Error(`[tlbcheck bug] binary operator ${op}`);
  }
}
