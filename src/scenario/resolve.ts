/**
 * `--scenario ID|FILE`: a built-in id, or a path to a scenario file (a spec that contains a `/`
 * or ends in `.json`). One place, used by check, gate, fuzz and replay.
 */
import { resolve } from 'node:path';
import { UserError } from '../errors.ts';
import type { Variant } from '../kernel/variant.ts';
import { readScenarioFile } from './from-file.ts';
import { SCENARIOS, findScenario } from './index.ts';
import type { Scenario } from './world.ts';

export const isScenarioPath = (spec: string): boolean => spec.includes('/') || spec.includes('\\') || spec.endsWith('.json');

export function resolveScenario(spec: string): Scenario {
  if (isScenarioPath(spec)) return readScenarioFile(resolve(spec), spec);
  const s = findScenario(spec);
  if (!s) throw new UserError(`unknown scenario '${spec}' (known: ${SCENARIOS.map((x) => x.id).join(', ')}; or a scenario file: a path ending in .json)`);
  return s;
}

/** Bad input: the scenario calls a C function the variant does not define. */
export function checkScenarioCalls(s: Scenario, v: Variant): void {
  for (const fn of s.calls ?? []) {
    const has = v.routines.has_c;
    if (!has) throw new UserError(`scenario ${s.id} calls ${fn}(), but variant ${v.id} is not a C program`);
    if (!has(fn)) throw new UserError(`scenario ${s.id} calls ${fn}(), which variant ${v.id} does not define`);
  }
}

/** Canonical JSON (sorted keys), to compare a scenario file with the one sealed in a counterexample. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
