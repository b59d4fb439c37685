/**
 * The scenario parameter space: CPUs, user mms and operations per CPU. One check, used by
 * `tlbcheck check` and by counterexample replay, so a parameter a scenario does not have or
 * a value outside its range is refused with the same one-line message everywhere.
 */
import type { ParamRange, Scenario, ScenarioParams } from './world.ts';

/** The parameters to run `s` with: defaults filled in; an error message when out of range. */
export function resolveParams(
  s: Scenario,
  raw: { readonly cpus?: number; readonly mms?: number; readonly ops?: number },
): { readonly params: ScenarioParams } | { readonly error: string } {
  const cpus = raw.cpus ?? s.cpus.default;
  if (cpus < s.cpus.min || cpus > s.cpus.max) return { error: `--cpus ${cpus} is out of range for ${s.id} (${s.cpus.min}-${s.cpus.max})` };
  const knob = (name: 'mms' | 'ops', range: ParamRange | undefined, v: number | undefined) => {
    if (range === undefined) return v === undefined ? { ok: undefined } : { error: `${s.id} has no --${name} parameter` };
    const n = v ?? range.default;
    if (n < range.min || n > range.max) return { error: `--${name} ${n} is out of range for ${s.id} (${range.min}-${range.max})` };
    return { ok: n };
  };
  const m = knob('mms', s.mms, raw.mms);
  if ('error' in m) return { error: m.error! };
  const o = knob('ops', s.ops, raw.ops);
  if ('error' in o) return { error: o.error! };
  return {
    params: { cpus, ...(m.ok === undefined ? {} : { mms: m.ok }), ...(o.ok === undefined ? {} : { ops: o.ok }) },
  };
}

/** `cpus 2-4 (default 2), mms 2-4 (default 3: user mms rotated ...)` for `tlbcheck list`. */
export function describeParams(s: Scenario): string {
  const r = (name: string, x: ParamRange) => `${name} ${x.min}-${x.max} (default ${x.default}: ${x.what})`;
  return [
    `cpus ${s.cpus.min}-${s.cpus.max} (default ${s.cpus.default})`,
    ...(s.mms ? [r('mms', s.mms)] : []),
    ...(s.ops ? [r('ops', s.ops)] : []),
  ].join(', ');
}
