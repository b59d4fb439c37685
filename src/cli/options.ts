/**
 * Shared parsing of check options into a CheckConfig: scenario, CPUs, features, bounds.
 */
import { UserError } from '../errors.ts';
import type { CheckConfig } from '../explore/engine.ts';
import type { Variant } from '../kernel/variant.ts';
import { ALL_FEATURE_NAMES, DEFAULT_BOUNDS, featuresOf, type Bounds, type FeatureName, type Features } from '../machine/types.ts';
import { checkScenarioCalls, resolveScenario } from '../scenario/resolve.ts';
import { resolveParams } from '../scenario/params.ts';

/** `pcid,-invpcid,pti`: set or clear features on top of `base`. */
export function parseFeatures(list: string, base: Features): Features {
  const f: Partial<Record<FeatureName, boolean | undefined>> = { ...base };
  for (const raw of list.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const off = raw.startsWith('-');
    const name = (off ? raw.slice(1) : raw.replace(/^\+/, '')) as FeatureName;
    if (!ALL_FEATURE_NAMES.includes(name)) throw new UserError(`unknown feature '${raw}' (known: ${ALL_FEATURE_NAMES.join(', ')})`);
    f[name] = !off;
  }
  if (f.invpcid && !f.pcid) throw new UserError('feature invpcid needs pcid on this model (INVPCID operates on PCIDs)');
  // An extra feature that is off stays absent, so the row keys and digests of old runs hold.
  return featuresOf(f);
}

export interface CheckOpts {
  readonly scenario?: unknown;
  readonly cpus?: unknown;
  readonly mms?: unknown;
  readonly ops?: unknown;
  readonly features?: unknown;
  readonly walks?: unknown;
  readonly sbDepth?: unknown;
  readonly evictions?: unknown;
  readonly preemptions?: unknown;
  readonly maxSteps?: unknown;
  readonly maxStepEffects?: unknown;
}

export function configOf(variant: Variant, o: CheckOpts): CheckConfig {
  const sid = String(o.scenario);
  const scenario = resolveScenario(sid);
  checkScenarioCalls(scenario, variant);
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const p = resolveParams(scenario, { ...opt('cpus', num(o.cpus)), ...opt('mms', num(o.mms)), ...opt('ops', num(o.ops)) });
  if ('error' in p) throw new UserError(p.error);
  const features = typeof o.features === 'string' ? parseFeatures(o.features, variant.features) : variant.features;
  const missing = (scenario.features ?? []).filter((f) => features[f] !== true);
  if (missing.length > 0) throw new UserError(`scenario '${sid}' needs the machine feature(s) ${missing.join(', ')} (add --features ${missing.join(',')})`);
  let bounds: Bounds = {
    ...DEFAULT_BOUNDS,
    ...(typeof o.walks === 'number' ? { walks: o.walks } : {}),
    ...(typeof o.sbDepth === 'number' ? { sbDepth: o.sbDepth } : {}),
    ...(typeof o.evictions === 'number' ? { evictions: o.evictions } : {}),
    ...(typeof o.maxSteps === 'number' ? { maxSteps: o.maxSteps } : {}),
  };
  if (typeof o.preemptions === 'number') bounds = { ...bounds, preemptions: o.preemptions };
  const stepEffects = typeof o.maxStepEffects === 'number' ? { stepEffects: o.maxStepEffects } : {};
  return { variant, scenario, params: p.params, features, bounds, ...stepEffects };
}

function opt<N extends string>(name: N, v: number | undefined): Partial<Record<N, number>> {
  return v === undefined ? {} : ({ [name]: v } as Record<N, number>);
}
