/**
 * `fuzz`: the fast-check property "variant V never violates any invariant" over generated
 * scenarios and choice tapes. A failing input is shrunk by fast-check, then by the minimizer
 * (which also drops CPUs and operations and re-validates every candidate by replay). The
 * result names fast-check's seed and path, so `--seed S --path P` replays the same failure.
 * Pure: the CLI prints and saves.
 */
import fc from 'fast-check';
import type { Violation } from '../invariants/types.ts';
import { type Model, prepare } from '../explore/engine.ts';
import type { Variant } from '../kernel/variant.ts';
import { DEFAULT_BOUNDS, type Bounds, type Features } from '../machine/types.ts';
import { type GeneratedSpec, generatedScenario, normalizeSpec, opCount } from '../scenario/generated.ts';
import { drive } from '../counterexample/drive.ts';
import { type Minimized, minimize } from '../counterexample/minimize.ts';
import { specArb, tapeArb } from './arbitrary.ts';
import { UserError } from '../errors.ts';
import { featuresOf } from '../machine/types.ts';
import { resolveParams } from '../scenario/params.ts';
import type { Scenario } from '../scenario/world.ts';

export interface FuzzOptions {
  readonly seed: number;
  readonly runs: number;
  readonly path?: string;
  readonly features?: Features;
  readonly bounds?: Bounds;
  /** Fuzz the choice tapes of this scenario (at its default parameters) instead of generated scenarios. */
  readonly scenario?: Scenario;
}

export type FuzzResult =
  | { readonly verdict: 'no-violation'; readonly seed: number; readonly runs: number }
  | {
      readonly verdict: 'violated';
      readonly seed: number;
      readonly runs: number;
      /** fast-check's path to the shrunk failure. */
      readonly path: string;
      readonly violation: Violation;
      /** The generated scenario fast-check shrank to, before the minimizer (none with a given scenario). */
      readonly shrunk?: GeneratedSpec;
      readonly minimized: Minimized;
    };

export function modelOfSpec(variant: Variant, spec: GeneratedSpec, features?: Features, bounds?: Bounds): Model {
  return prepare({
    variant,
    scenario: generatedScenario(spec),
    params: { cpus: spec.cpus.length },
    features: features ?? variant.features,
    bounds: bounds ?? DEFAULT_BOUNDS,
  });
}

/** Run one generated scenario under a tape read modulo each branch point's width. */
export function runSpec(model: Model, tape: readonly number[]) {
  let i = 0;
  return drive(model, (moves, branch) => (branch ? (tape[i++] ?? 0) % moves.length : 0));
}

/** `fuzz --scenario`: choice tapes only, on one scenario at its default parameters. */
function fuzzScenario(variant: Variant, scenario: Scenario, opt: FuzzOptions): FuzzResult {
  const p = resolveParams(scenario, {});
  if ('error' in p) throw new UserError(p.error);
  const missing = (scenario.features ?? []).filter((f) => !(opt.features ?? variant.features)[f]);
  const features = missing.length === 0 ? (opt.features ?? variant.features) : featuresOf({ ...(opt.features ?? variant.features), ...Object.fromEntries(missing.map((f) => [f, true])) });
  const model = prepare({ variant, scenario, params: p.params, features, bounds: opt.bounds ?? DEFAULT_BOUNDS });
  const attempt = (tape: readonly number[]) => {
    const d = runSpec(model, tape);
    return d.violation ? { tape: d.tape, violation: d.violation } : undefined;
  };
  const details = fc.check(
    fc.property(tapeArb(), (tape) => attempt(tape) === undefined),
    { seed: opt.seed, numRuns: opt.runs, ...(opt.path === undefined ? {} : { path: opt.path }) },
  );
  const found = details.failed && details.counterexample ? attempt(...details.counterexample) : undefined;
  if (!found) return { verdict: 'no-violation', seed: opt.seed, runs: details.numRuns };
  const minimized = minimize({ model }, found.tape, found.violation.invariant);
  return { verdict: 'violated', seed: opt.seed, runs: details.numRuns, path: details.counterexamplePath ?? '', violation: found.violation, minimized };
}

export function fuzz(variant: Variant, opt: FuzzOptions): FuzzResult {
  if (opt.scenario) return fuzzScenario(variant, opt.scenario, opt);
  const attempt = (raw: GeneratedSpec, tape: readonly number[]) => {
    const spec = normalizeSpec(raw, variant.routines);
    if (opCount(spec) === 0) return undefined;
    const d = runSpec(modelOfSpec(variant, spec, opt.features, opt.bounds), tape);
    return d.violation ? { spec, tape: d.tape, violation: d.violation } : undefined;
  };
  const prop = fc.property(specArb(variant.routines), tapeArb(), (raw, tape) => attempt(raw, tape) === undefined);
  const details = fc.check(prop, { seed: opt.seed, numRuns: opt.runs, ...(opt.path === undefined ? {} : { path: opt.path }) });
  const found = details.failed && details.counterexample ? attempt(...details.counterexample) : undefined;
  if (!found) return { verdict: 'no-violation', seed: opt.seed, runs: details.numRuns };
  const model = modelOfSpec(variant, found.spec, opt.features, opt.bounds);
  const minimized = minimize({ model, generated: found.spec }, found.tape, found.violation.invariant);
  return {
    verdict: 'violated',
    seed: opt.seed,
    runs: details.numRuns,
    path: details.counterexamplePath ?? '',
    violation: found.violation,
    shrunk: found.spec,
    minimized,
  };
}
