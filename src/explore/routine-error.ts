/**
 * A routine is user code: a variant file may replace any of them. When one throws, the error
 * is the user's, so it becomes a model error naming the routine, the CPU, the step and the
 * source position where it was thrown, instead of an internal error.
 */
import { ModelError, UserError, isInternal } from '../errors.ts';

/** Source position of the first stack frame in a user's file, else in a kernel routine. */
export function stackSite(e: unknown): string | undefined {
  const stack = e instanceof Error ? e.stack : undefined;
  if (!stack) return undefined;
  const sites: string[] = [];
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const file = m[1]!.replace(/^file:\/\//, '');
    if (file.startsWith('node:') || file.includes('/node_modules/')) continue;
    sites.push(`${file}:${m[2]}:${m[3]}`);
  }
  const mine = (s: string): boolean => /\/src\/(explore|machine|invariants|counterexample|cli|gate|kc)\//.test(s) || /\/src\/kernel\/(fx|layout)\.ts:/.test(s);
  return sites.find((s) => !/\/src\//.test(s)) ?? sites.find((s) => !mine(s));
}

/** The error to throw when routine `fn` on `cpu` failed with `e` during step `step`. */
export function routineFailure(e: unknown, fn: string, cpu: number, step: number): Error {
  if (isInternal(e)) return e as Error;
  const what = e instanceof Error ? e.message.split('\n')[0]! : String(e);
  if (e instanceof UserError && e.message.startsWith('routine ')) return e;
  const site = stackSite(e);
  return new ModelError(`routine ${fn} on cpu${cpu} at step ${step}: ${what}${site ? ` (${site})` : ''}`);
}
