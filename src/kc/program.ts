/**
 * Link C files into one program: preprocess and parse each, let later files' functions
 * replace earlier ones of the same name (a patch over its base), and compile every function.
 */
import { createHash } from 'node:crypto';
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
export async function link(
  sources: readonly CSource[],
  cfg: PreConfig,
  noop: readonly string[],
  only?: ReadonlySet<string>,
  /** false: parse and compile everything afresh, sharing nothing with other links (tests compare the two). */
  cache = true,
): Promise<Linked & { ignored: string[]; skipped: string[] }> {
  const macros = new Map<string, Macro>();
  const defs = new Map<string, { unit: Unit; node: Node }>();
  const origin = new Map<string, string>();
  const added: string[] = [];
  const ignored: string[] = [];
  /** Functions of a whole file that do not parse, and the file-level pieces skipped. */
  const broken = new Map<string, UserError>();
  const skipped: string[] = [];
  let prefix = configKey(cfg);
  for (let i = 0; i < sources.length; i++) {
    const src = sources[i]!;
    const last = i === sources.length - 1;
    // The base's macros stand for the headers (asm/tlbflush.h) and reach a later file too.
    prefix = createHash('sha1').update(prefix).update('\0').update(src.file).update('\0').update(src.text).digest('hex');
    const tolerant = last && only !== undefined;
    const unit = cache ? await parsedOnce(prefix, src, cfg, macros, tolerant) : await parseUnit(src, cfg, macros, tolerant);
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
  const compile = cache ? compiledOnce(names, macros) : (u: Unit, def: Node): CFunction => compileFunction(u, def, names);
  const fns = new Map<string, CFunction>();
  if (!only) {
    for (const [name, d] of defs) fns.set(name, compile(d.unit, d.node, name));
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
    const fn = compile(d.unit, d.node, name);
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

/*
 * Parsing and compiling once per process. The 43 built-in variants link the same few files
 * (a patch links its base's files, then its own); `gate`, `list` and the tests build them all
 * (src/kernel/index.ts), and a worker thread builds its variant and the ones under it. Without
 * these caches building all of them cost about 1.3 s per process; most of it was tree-sitter
 * re-parsing the same base files.
 *
 * A parsed file is reused when everything that reached its preprocessing is the same: the
 * configuration and every file linked before it, in order (`prefix`, a hash chain over them).
 * A compiled function is reused when, in addition, the names it resolves against (the
 * program's functions, no-ops and per-CPU variables) and the macros in force are the same
 * objects. Macros are kept per link as before: a patch's #define reaches the base's
 * functions (linux-4.12-up redefines __flush_tlb()), so such a base function gets a key of
 * its own and is compiled again. A whole kernel file (`tolerant`) is never cached.
 */

interface ParsedFile {
  readonly file: string;
  readonly root: Node;
  readonly src: string;
  /** The macros in force after this file: the map the next file's preprocessing starts from. */
  readonly macrosAfter: ReadonlyMap<string, Macro>;
}

const PARSED = new Map<string, ParsedFile>();

function configKey(cfg: PreConfig): string {
  return [...cfg.config].sort().join(',') + '|' + [...cfg.features].sort().join(',');
}

/**
 * Parse `src` into a unit over the shared `macros` map of this link (which it updates, as
 * preprocessing does), or take the parse of an earlier link with the same `prefix`.
 */
async function parsedOnce(prefix: string, src: CSource, cfg: PreConfig, macros: Map<string, Macro>, tolerant: boolean): Promise<Unit & { unparsed: Unparsed[] }> {
  const known = tolerant ? undefined : PARSED.get(prefix);
  if (known) {
    macros.clear();
    for (const [k, m] of known.macrosAfter) macros.set(k, m);
    return { file: known.file, root: known.root, src: known.src, macros, config: cfg.config, unparsed: [] };
  }
  const unit = await parseUnit(src, cfg, macros, tolerant);
  if (!tolerant) PARSED.set(prefix, { file: unit.file, root: unit.root, src: unit.src, macrosAfter: new Map(macros) });
  return unit;
}

/** Per syntax tree, its functions compiled so far, by name, names and macros. */
const COMPILED = new WeakMap<Node, Map<string, CFunction>>();
const MACRO_IDS = new WeakMap<Macro, number>();
let nextMacroId = 0;

const macroId = (m: Macro): number => {
  let id = MACRO_IDS.get(m);
  if (id === undefined) {
    id = nextMacroId++;
    MACRO_IDS.set(m, id);
  }
  return id;
};

/** compileFunction, reusing an earlier compile of the same function under the same names and macros. */
function compiledOnce(names: Names, macros: ReadonlyMap<string, Macro>): (u: Unit, def: Node, name: string) => CFunction {
  const sorted = (xs: Iterable<string>): string => [...xs].sort().join(',');
  const env =
    sorted(names.functions) + '|' + sorted(names.noop) + '|' + sorted(names.pcpu ?? []) + '|' +
    [...macros.values()].map(macroId).sort((a, b) => a - b).join(',');
  return (u, def, name) => {
    let byKey = COMPILED.get(u.root);
    if (!byKey) {
      byKey = new Map();
      COMPILED.set(u.root, byKey);
    }
    // Two definitions of one name in one file: the later one is the one linked; key by place too.
    const key = `${name}@${def.startIndex}|${env}`;
    let fn = byKey.get(key);
    if (!fn) {
      fn = compileFunction(u, def, names);
      byKey.set(key, fn);
    }
    return fn;
  };
}
