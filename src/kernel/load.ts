/**
 * Resolve `--variant ID|PATH`: a built-in id, or a `.ts`/`.js` file whose default export (or
 * `variant` export) is a Variant. Errors are one-line UserErrors.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../errors.ts';
import { stackSite } from '../explore/routine-error.ts';
import { cBuiltin, cBuiltinIds } from '../kc/builtins.ts';
import type { Variant } from './variant.ts';
import { isCVariantSpec, resolveCVariant } from '../kc/load-c.ts';

export interface ResolvedVariant {
  readonly variant: Variant;
  /** Absolute path of a user file, when the variant came from one. */
  readonly path?: string;
}

/** Whether `--variant S` names a file rather than a built-in id. */
export const isVariantFile = (s: string): boolean => /[\\/]/.test(s) || /\.(ts|js|mts|mjs|c)$/.test(s);

export async function resolveVariant(spec: string, cwd: string = process.cwd()): Promise<ResolvedVariant> {
  // Only the named variant (and the ones it patches) is built, not all of them (kernel/index.ts).
  const builtin = cBuiltin(spec);
  if (builtin) return { variant: await builtin };
  // A patch in kernel C (or a whole kernel tlb.c with a base).
  if (isCVariantSpec(spec)) return resolveCVariant(spec, cwd);
  if (!isVariantFile(spec)) {
    throw new UserError(`unknown variant '${spec}' (known: ${cBuiltinIds().join(', ')}; or give a path to a .c patch)`);
  }
  const path = resolve(cwd, spec);
  if (!existsSync(path)) throw new UserError(`variant file not found: ${spec}`);
  if (/\.m?ts$/.test(path) && process.env['TLBCHECK_NO_TYPECHECK'] !== '1') {
    // The compiler is loaded only when a .ts variant file is (it is large).
    const { firstTypeError } = await import('./typecheck.ts');
    const err = firstTypeError(path);
    if (err) throw new UserError(`variant file ${spec} does not type-check: ${err}`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`cannot load variant file ${spec}: ${loadErrorText(e)}`);
  }
  const v = (mod['default'] ?? mod['variant']) as Partial<Variant> | undefined;
  const problem = checkVariantShape(v);
  if (problem) throw new UserError(`variant file ${spec}: ${problem}`);
  return { variant: v as Variant, path };
}

/**
 * One line for an error thrown while importing a variant file: the compiler's own
 * `file:line:col: message` for a syntax error, else the first line of the message and the
 * first stack frame in the file.
 */
function loadErrorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const at = /^(.+:\d+:\d+): ERROR: (.*)$/m.exec(msg);
  if (at) return `${at[1]}: ${at[2]}`;
  const site = stackSite(e);
  return `${msg.split('\n')[0]}${site ? ` (${site})` : ''}`;
}

function checkVariantShape(v: Partial<Variant> | undefined): string | undefined {
  if (!v || typeof v !== 'object') return 'no default export (export default derive(...))';
  if (typeof v.id !== 'string' || !/^[a-z0-9][a-z0-9.-]*$/.test(v.id)) return 'variant id must be kebab-case';
  if (cBuiltinIds().includes(v.id)) return `variant id '${v.id}' is taken by a built-in variant`;
  if (!v.routines || typeof v.routines !== 'object') return 'no routines table';
  for (const r of ['initCpu', 'context_switch', 'user_access', 'flush_tlb_mm_range', 'call_function_interrupt'] as const) {
    if (typeof v.routines[r] !== 'function') return `routine ${r} is missing`;
  }
  if (!v.features || typeof v.features !== 'object') return 'no machine features';
  if (!(v.sharedPcpu instanceof Set)) return 'sharedPcpu must be a Set';
  return undefined;
}
