/**
 * Link C files into one program: preprocess and parse each, let later files' functions
 * replace earlier ones of the same name (a patch over its base), and compile every function.
 */
import { UserError } from '../errors.ts';
import { type Names, type Unit, compileFunction, functionDefs, functionName } from './compile.ts';
import type { CFunction } from './ir.ts';
import type { CProgram } from './interp.ts';
import { ENV, ownPerCpu } from './env-table.ts';
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
  /** Per-CPU variables the program defines itself (DEFINE_PER_CPU of a name the model does not keep). */
  readonly pcpuExtra: readonly string[];
}

const syntaxError = (file: string, bad: Node): UserError => {
  const { line, col } = lineCol(bad);
  const what = bad.isMissing ? `missing '${bad.type}'` : `'${bad.text.split('\n')[0]!.slice(0, 40)}'`;
  return new UserError(`${file}:${line}:${col}: syntax error near ${what} (a construct the C grammar or the preprocessor subset does not accept)`);
};

/**
 * A file-level piece of a whole kernel file that does not parse: a function (an error only if
 * the program needs it) or something else (debugfs tables, initcalls: skipped, and said so).
 */
export interface Unparsed {
  readonly fn?: string;
  readonly line: number;
  readonly endLine: number;
  readonly error: UserError;
}

/**
 * Parse one file (after preprocessing) into a unit; a syntax error is `file:line:col`. With
 * `tolerant` (a whole kernel file, of which only some functions are taken) a file-level piece
 * that does not parse is returned in `unparsed` instead, for the caller to judge.
 */
export async function parseUnit(src: CSource, cfg: PreConfig, macros: Map<string, Macro>, tolerant = false): Promise<Unit & { unparsed: Unparsed[] }> {
  const pre = await preprocess(src.file, src.text, cfg, macros);
  const parser = await cParser();
  const tree = parser.parse(pre.text);
  if (!tree) throw new UserError(`${src.file}: cannot parse`);
  const unparsed: Unparsed[] = [];
  if (tree.rootNode.hasError) {
    if (!tolerant) throw syntaxError(src.file, firstSyntaxError(tree.rootNode)!);
    for (const n of tree.rootNode.children) {
      if (!n?.hasError && !n?.isMissing) continue;
      const fn = n.type === 'function_definition' ? functionName(n) : undefined;
      const piece = { line: n.startPosition.row + 1, endLine: n.endPosition.row + 1, error: syntaxError(src.file, firstSyntaxError(n) ?? n) };
      unparsed.push(fn === undefined ? piece : { ...piece, fn });
    }
  }
  return { file: src.file, root: tree.rootNode, src: pre.text, macros: pre.macros, config: cfg.config, unparsed };
}

/**
 * Link `sources` in order. `only`, when given, restricts the last file to those functions (a
 * whole kernel tlb.c: the modelled ones are taken, the rest listed in `ignored`).
 */
export async function link(sources: readonly CSource[], cfg: PreConfig, noop: readonly string[], only?: ReadonlySet<string>): Promise<Linked & { ignored: string[]; skipped: string[] }> {
  const macros = new Map<string, Macro>();
  const defs = new Map<string, { unit: Unit; node: Node }>();
  const origin = new Map<string, string>();
  const added: string[] = [];
  const ignored: string[] = [];
  /** Functions of a whole file that do not parse, and the file-level pieces skipped. */
  const broken = new Map<string, UserError>();
  const skipped: string[] = [];
  for (let i = 0; i < sources.length; i++) {
    const src = sources[i]!;
    const last = i === sources.length - 1;
    // The base's macros stand for the headers (asm/tlbflush.h) and reach a later file too.
    const unit = await parseUnit(src, cfg, macros, last && only !== undefined);
    for (const u of unit.unparsed) {
      if (u.fn !== undefined) broken.set(u.fn, u.error);
      else skipped.push(`lines ${u.line}-${u.endLine}`);
    }
    for (const [name, node] of functionDefs(unit)) {
      if (broken.has(name)) continue;
      if (last && i > 0 && !defs.has(name)) added.push(name);
      defs.set(name, { unit, node });
      origin.set(name, src.file);
    }
  }
  // A whole kernel file also defines helpers the base models otherwise (6.x tlb.c holds
  // build_cr3, kern_pcid, invalidate_user_asid, flush_tlb_local, cond_mitigation...): where
  // the base does not define one, its model stays (an environment entry, or the base's no-op
  // list) and the file's body is left out, and listed.
  const byEnv: string[] = [];
  if (only) {
    const noops = new Set(noop);
    for (const name of [...defs.keys()]) {
      if (!only.has(name) && (Object.hasOwn(ENV, name) || noops.has(name)) && origin.get(name) === sources[sources.length - 1]!.file) {
        defs.delete(name);
        byEnv.push(name);
      }
    }
  }
  const pcpu = [...new Set(sources.flatMap((s) => ownPerCpu(s.text)))];
  const names: Names = { functions: new Set(defs.keys()), noop: new Set(noop), pcpu: new Set(pcpu) };
  const fns = new Map<string, CFunction>();
  if (!only) {
    for (const [name, d] of defs) fns.set(name, compileFunction(d.unit, d.node, names));
    return { fns, origin, added, ignored, skipped, pcpuExtra: pcpu };
  }
  // A whole kernel file: compile what the base models and what that calls, nothing else.
  const todo = [...only].filter((n) => defs.has(n) || broken.has(n));
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (fns.has(name)) continue;
    // A needed function that does not parse is the user's error, with its place.
    const err = broken.get(name);
    if (err) throw err;
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
  for (const [name, file] of origin) if (file === last && !fns.has(name)) ignored.push(byEnv.includes(name) ? `${name} (modelled by ${Object.hasOwn(ENV, name) ? 'the environment' : 'the no-op list'})` : name);
  for (const name of broken.keys()) if (!fns.has(name)) skipped.push(`${name} (does not parse)`);
  return { fns, origin: new Map([...origin].filter(([n]) => fns.has(n))), added, ignored, skipped, pcpuExtra: pcpu };
}
