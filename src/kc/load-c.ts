/**
 * `--variant` for C: a built-in C variant by id, or a `.c` file. A file with a tlbcheck
 * header is a patch over its `base=`; a file without one (a whole kernel tlb.c) needs a base
 * from the caller, takes the functions the base models and lists the rest as ignored.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { findVariant } from '../kernel/index.ts';
import { cBuiltin, cBuiltinIds, patchOn } from './builtins.ts';
import { parseHeader } from './header.ts';
import type { CVariant } from './variant.ts';

/** Whether `spec` names a C variant (a `.c` path or a C built-in id). */
export function isCVariantSpec(spec: string): boolean {
  return /\.c$/i.test(spec) || cBuiltinIds().includes(spec);
}

export async function resolveCVariant(spec: string, cwd: string, opts: { base?: string } = {}): Promise<{ variant: CVariant; path?: string }> {
  const builtin = cBuiltin(spec);
  if (builtin) return { variant: await builtin };
  const path = resolve(cwd, spec);
  if (!existsSync(path)) throw new UserError(`variant file not found: ${spec}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read variant file ${spec}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  const src = { file: spec, text };
  const h = parseHeader(spec, text);
  if (!h) {
    if (opts.base === undefined) throw new UserError(`${spec}: no /* tlbcheck: base=... */ header (a whole kernel file needs a base generation)`);
    return { variant: await wholeFile(opts.base, src), path };
  }
  const base = opts.base ?? h.base;
  if (base === undefined) throw new UserError(`${spec}: the tlbcheck header names no base= generation`);
  const v = await patchOn(base, src, h);
  if (findVariant(v.id) || cBuiltin(v.id)) throw new UserError(`${spec}: variant id '${v.id}' is taken by a built-in variant`);
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(v.id)) throw new UserError(`${spec}: variant id must be kebab-case (id=...)`);
  return { variant: v, path };
}

/** A whole kernel tlb.c over `base`: only the functions the base defines are taken. */
async function wholeFile(base: string, src: { file: string; text: string }): Promise<CVariant> {
  const b = cBuiltin(base) ?? cBuiltin(`${base}-c`);
  if (!b) throw new UserError(`${src.file}: base ${base} is not a generation written in C`);
  const only = new Set((await b).program.fns.keys());
  return patchOn(base, src, { expect: [], noop: [], config: [], id: src.file.replace(/^.*[\\/]/, '').replace(/\.c$/, '').toLowerCase().replace(/[^a-z0-9.-]/g, '-') }, undefined, only);
}
