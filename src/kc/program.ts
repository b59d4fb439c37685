/**
 * Link C files into one program: preprocess and parse each, let later files' functions
 * replace earlier ones of the same name (a patch over its base), and compile every function.
 */
import { UserError } from '../errors.ts';
import { type Names, type Unit, compileFunction, functionDefs } from './compile.ts';
import type { CFunction } from './ir.ts';
import type { CProgram } from './interp.ts';
import { cParser, firstSyntaxError, lineCol, type Node } from './parser.ts';
import { type Macro, type PreConfig, preprocess } from './preproc.ts';

export interface CSource {
  /** Shown in messages: the path as the user gave it, or a repository path. */
  readonly file: string;
  readonly text: string;
}

export interface Linked extends CProgram {
  /** Which file each function comes from. */
  readonly origin: ReadonlyMap<string, string>;
  /** Functions of the last file that no earlier file defines (a patch's additions). */
  readonly added: readonly string[];
}

/** Parse one file (after preprocessing) into a unit; a syntax error is `file:line:col`. */
export async function parseUnit(src: CSource, cfg: PreConfig, macros: Map<string, Macro>): Promise<Unit> {
  const pre = await preprocess(src.file, src.text, cfg, macros);
  const parser = await cParser();
  const tree = parser.parse(pre.text);
  if (!tree) throw new UserError(`${src.file}: cannot parse`);
  const bad = firstSyntaxError(tree.rootNode);
  if (bad) {
    const { line, col } = lineCol(bad);
    const what = bad.isMissing ? `missing '${bad.type}'` : `'${bad.text.split('\n')[0]!.slice(0, 40)}'`;
    throw new UserError(`${src.file}:${line}:${col}: syntax error near ${what} (a construct the C grammar or the preprocessor subset does not accept)`);
  }
  return { file: src.file, root: tree.rootNode, src: pre.text, macros: pre.macros, config: cfg.config };
}

/**
 * Link `sources` in order. `only`, when given, restricts the last file to those functions (a
 * whole kernel tlb.c: the modelled ones are taken, the rest listed in `ignored`).
 */
export async function link(sources: readonly CSource[], cfg: PreConfig, noop: readonly string[], only?: ReadonlySet<string>): Promise<Linked & { ignored: string[] }> {
  const macros = new Map<string, Macro>();
  const defs = new Map<string, { unit: Unit; node: Node }>();
  const origin = new Map<string, string>();
  const added: string[] = [];
  const ignored: string[] = [];
  for (let i = 0; i < sources.length; i++) {
    const src = sources[i]!;
    const unit = await parseUnit(src, cfg, macros);
    const last = i === sources.length - 1;
    for (const [name, node] of functionDefs(unit)) {
      if (last && i > 0 && !defs.has(name)) added.push(name);
      defs.set(name, { unit, node });
      origin.set(name, src.file);
    }
  }
  const names: Names = { functions: new Set(defs.keys()), noop: new Set(noop) };
  const fns = new Map<string, CFunction>();
  if (!only) {
    for (const [name, d] of defs) fns.set(name, compileFunction(d.unit, d.node, names));
    return { fns, origin, added, ignored };
  }
  // A whole kernel file: compile what the base models and what that calls, nothing else.
  const todo = [...only].filter((n) => defs.has(n));
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (fns.has(name)) continue;
    const d = defs.get(name)!;
    const fn = compileFunction(d.unit, d.node, names);
    fns.set(name, fn);
    for (const op of fn.code) {
      if (op.o === 'call' && !fns.has(op.fn)) todo.push(op.fn);
      // (calli targets are function constants, taken below)
      if (op.o === 'const' && typeof op.v === 'object' && op.v.t === 'fn' && !fns.has(op.v.name)) todo.push(op.v.name);
    }
  }
  const last = sources[sources.length - 1]!.file;
  for (const [name, file] of origin) if (file === last && !fns.has(name)) ignored.push(name);
  return { fns, origin: new Map([...origin].filter(([n]) => fns.has(n))), added, ignored };
}
