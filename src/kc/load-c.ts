/**
 * `--variant` for C: a built-in C variant by id, or a `.c` file. A file with a tlbcheck
 * header is a patch over its `base=`; a file without one (a whole kernel tlb.c) needs a base
 * from the caller, takes the functions the base models and lists the rest as ignored.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { cBaseIds, cBuiltin, cBuiltinIds, patchOn } from './builtins.ts';
import { parseHeader } from './header.ts';
import type { CVariant } from './variant.ts';

const cBaseList = (): string => cBaseIds().join(', ');

/** What a whole-file variant took from the file and what it left, for the user. */
export function wholeFileNote(v: CVariant): string | undefined {
  if (!v.spec.only) return undefined;
  const file = v.spec.sources[v.spec.sources.length - 1]!.file;
  const taken = [...v.program.origin].filter(([, f]) => f === file).map(([n]) => n);
  const skipped = v.skipped.length === 0 ? '' : `; skipped, not parsed: ${v.skipped.join(', ')}`;
  return `${file}: took ${taken.join(', ') || 'nothing'}; ignored ${v.ignored.join(', ') || 'nothing'}${skipped}`;
}

/** Whether `spec` names a C file (a patch, or a whole kernel tlb.c). */
export function isCVariantSpec(spec: string): boolean {
  return /\.c$/i.test(spec);
}

export async function resolveCVariant(spec: string, cwd: string, opts: { base?: string } = {}): Promise<{ variant: CVariant; path?: string }> {
  const builtin = cBuiltin(spec);
  if (builtin) return { variant: await builtin };
  if (!isCVariantSpec(spec)) throw new UserError(`--base goes with a .c file, not '${spec}'`);
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
    if (opts.base === undefined) throw new UserError(`${spec}: no /* tlbcheck: base=... */ header; for a whole kernel tlb.c give --base GENERATION (C generations: ${cBaseList()})`);
    return { variant: await wholeFile(opts.base, src), path };
  }
  const base = opts.base ?? h.base;
  if (base === undefined) throw new UserError(`${spec}: the tlbcheck header names no base= generation`);
  const v = await patchOn(base, src, h);
  if (cBuiltinIds().includes(v.id)) throw new UserError(`${spec}: variant id '${v.id}' is taken by a built-in variant`);
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(v.id)) throw new UserError(`${spec}: variant id must be kebab-case (id=...)`);
  return { variant: v, path };
}

/** A whole kernel tlb.c over `base`: only the functions the base defines are taken. */
async function wholeFile(base: string, src: { file: string; text: string }): Promise<CVariant> {
  const b = cBuiltin(base);
  if (!b) throw new UserError(`${src.file}: base ${base} is not a built-in generation (${cBaseList()})`);
  const only = new Set((await b).program.fns.keys());
  const id = src.file.replace(/^.*[\\/]/, '').replace(/\.c$/i, '').toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  // Tracing and statistics calls of a real file have no effect on the model.
  const noop = ['trace_tlb_flush', 'trace_tlb_flush_rcuidle', 'count_vm_tlb_event', 'count_vm_tlb_events', 'inc_irq_stat', 'load_mm_cr4', 'switch_ldt', 'load_mm_ldt'];
  return patchOn(base, src, { expect: [], noop, config: [], features: [], sharedPcpu: [], invariants: [], mmFields: [], id: `${id}-over-${base}` }, only);
}
