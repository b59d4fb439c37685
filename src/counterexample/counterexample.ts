/**
 * Counterexamples: build one from a found violation (replaying its tape with a trace), save it
 * without ever overwriting a different file, load and validate one (a file that disagrees with
 * its own digest is reported as tampered, exit 2), and replay it on its own variant or another.
 * A loaded file is data: nothing here imports code it names.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ensureDir, writeNewFile } from '../files.ts';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { Divergence, prepare, runExecution, type Model } from '../explore/engine.ts';
import { ReplayStrategy } from '../explore/replay.ts';
import type { TraceEvent } from '../explore/sim.ts';
import type { Violation } from '../invariants/types.ts';
import type { Variant } from '../kernel/variant.ts';
import type { Bounds } from '../machine/types.ts';
import { findScenario } from '../scenario/index.ts';
import { generatedScenario } from '../scenario/generated.ts';
import { scenarioFromJson } from '../scenario/from-file.ts';
import { resolveParams } from '../scenario/params.ts';
import { type DigestRule, digestBy, hasData, traceDigest } from './digest.ts';
import { canonData } from '../explore/event-data.ts';
import { fileDigest } from './seal.ts';
import { type CounterexampleFile, SCHEMAS, SCHEMA_ID, SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, counterexampleSchema } from './schema.ts';

export interface Found {
  readonly violation: Violation;
  readonly tape: readonly number[];
  readonly widths: readonly number[];
  readonly strategy: string;
  readonly seed: number;
}

export function boundsToJson(b: Bounds): CounterexampleFile['bounds'] {
  return {
    walks: Number.isFinite(b.walks) ? b.walks : null,
    sbDepth: b.sbDepth,
    evictions: b.evictions,
    maxSteps: b.maxSteps,
    preemptions: b.preemptions ?? null,
  };
}

export function boundsFromJson(j: CounterexampleFile['bounds']): Bounds {
  const b: Bounds = {
    walks: j.walks ?? Number.POSITIVE_INFINITY,
    sbDepth: j.sbDepth,
    evictions: j.evictions,
    maxSteps: j.maxSteps,
  };
  return j.preemptions === null || j.preemptions === undefined ? b : { ...b, preemptions: j.preemptions };
}

export function traceStats(trace: readonly TraceEvent[], tape: readonly number[], cpus: number) {
  return {
    // A step can record several events (a program step and the instant effects after it).
    steps: new Set(trace.filter((e) => e.actor !== 'ghost' && e.actor !== 'end' && e.step > 0).map((e) => e.step)).size,
    preemptions: tape.filter((c) => c !== 0).length,
    walks: trace.filter((e) => e.actor === 'walk').length,
    cpus,
  };
}

/** Replay `found` on `model` with a trace, and package it. */
export function buildCounterexample(model: Model, found: Found, variantPath?: string): CounterexampleFile {
  const r = runExecution(model, new ReplayStrategy(found.tape, found.widths), { trace: true });
  if (!r.violation || r.violation.invariant !== found.violation.invariant) {
    throw new Error(`[tlbcheck bug] the tape of a ${found.violation.invariant} violation does not reproduce it`);
  }
  const trace = r.trace ?? [];
  const cfg = model.cfg;
  const ce: CounterexampleFile = {
    schema: SCHEMA_ID,
    variant: cfg.variant.id,
    scenario: cfg.scenario.id,
    params: { ...cfg.params },
    features: { ...cfg.features },
    bounds: boundsToJson(cfg.bounds),
    invariant: r.violation.invariant,
    message: r.violation.message,
    strategy: found.strategy,
    seed: found.seed,
    tape: [...r.tape],
    widths: [...r.widths],
    // Each event with its data in canonical form (display strings dropped): the digest is over it.
    trace: trace.map(({ data, ...e }) => (data === undefined ? e : { ...e, data: canonData(data) })),
    digest: '',
    stats: traceStats(trace, r.tape, cfg.params.cpus),
  };
  const sealed = cfg.scenario.file === undefined ? ce : { ...ce, scenarioFile: cfg.scenario.file.json };
  const withPath = variantPath === undefined ? sealed : { ...sealed, variantPath };
  return sealCounterexample(cfg.variant.fixedBy === undefined ? withPath : { ...withPath, fixedBy: cfg.variant.fixedBy });
}

/**
 * `ce` sealed: its digest recomputed over every other field (`seal.ts`). A trace with the data
 * of every event makes a version-5 file (a version-3 or 4 file's keeps its version: its data
 * keeps location numbers, or a cross-call's text); one without (a version-1 or 2 file's) stays
 * version 2.
 */
export function sealCounterexample(ce: CounterexampleFile): CounterexampleFile {
  const schema = !hasData(ce.trace) ? SCHEMA_V2 : ce.schema === SCHEMA_V3 || ce.schema === SCHEMA_V4 ? ce.schema : SCHEMA_ID;
  const out: CounterexampleFile = { ...ce, schema };
  return { ...out, digest: fileDigest(out) };
}

/**
 * How `ce`'s trace digest is taken: over its events' data (version 5), over their data with
 * each cross-call as its version-4 text (versions 3 and 4), or over their text (1 and 2). A
 * version-3 file's data is read as version 4 (`canonDataV4` drops its location numbers), so it
 * is verified by what its locations are and still replays after a layout change.
 */
export const digestRule = (ce: CounterexampleFile): DigestRule => (ce.schema === SCHEMA_ID ? 'data' : ce.schema === SCHEMA_V4 || ce.schema === SCHEMA_V3 ? 'data-v4' : 'text');

/** The digest of `trace` in the scheme of `ce`'s version. */
const digestFor = (ce: CounterexampleFile, trace: readonly TraceEvent[]): string => digestBy(digestRule(ce), trace);

/** The digest of the recorded trace; a replay that reproduces the recording has the same one. */
export const recordedTraceDigest = (ce: CounterexampleFile): string => digestBy(digestRule(ce), ce.trace);

/**
 * Write `ce` under `dir`. An existing file with the same digest and tape (so the same contents)
 * is reused; a different file is never overwritten (the name gets a numeric suffix).
 */
export function saveCounterexample(ce: CounterexampleFile, dir: string): { path: string; reused: boolean } {
  ensureDir(dir);
  const stem = `${ce.variant}--${ce.scenario}-c${ce.params.cpus}--${ce.invariant}`;
  const text = `${JSON.stringify(ce, null, 1)}\n`;
  for (let i = 1; i < 1000; i++) {
    const path = join(dir, i === 1 ? `${stem}.json` : `${stem}-${i}.json`);
    if (existsSync(path)) {
      try {
        const old = JSON.parse(readFileSync(path, 'utf8')) as { digest?: unknown; tape?: unknown };
        if (old.digest === ce.digest && JSON.stringify(old.tape) === JSON.stringify(ce.tape)) return { path, reused: true };
      } catch {
        // not ours or not JSON: leave it alone, try the next name
      }
      continue;
    }
    if (writeNewFile(path, text)) return { path, reused: false };
  }
  throw new UserError(`too many counterexamples named ${stem} in ${dir}`);
}

export function loadCounterexample(path: string): CounterexampleFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`counterexample file not found: ${path}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // Node's message quotes the text around the error, newlines included: one line.
    throw new UserError(`${path}: malformed JSON (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
  const schema = (json as { schema?: unknown } | null)?.schema;
  if (typeof schema !== 'string' || !SCHEMAS.includes(schema)) {
    throw new UserError(`${path}: unknown schema ${JSON.stringify(schema)} (this tlbcheck reads ${SCHEMAS.join(', ')})`);
  }
  const parsed = counterexampleSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new UserError(`${path}: invalid counterexample at ${i?.path.join('.') || '(root)'}: ${i?.message ?? '?'}`);
  }
  const ce = parsed.data;
  // Versions 2 to 4 cover every field of the file as written (unknown ones too); version 1 only its trace.
  const v1 = ce.schema === SCHEMA_V1;
  const have = v1 ? traceDigest(ce.trace) : fileDigest(json as Record<string, unknown>);
  if (have !== ce.digest) {
    const what = v1 ? 'its recorded trace does not match its digest' : 'its contents do not match its digest';
    throw new UserError(`${path}: tampered: ${what} (the file was edited after it was saved)`);
  }
  return ce;
}

export type ReplayOutcome =
  | { readonly kind: 'violated'; readonly violation: Violation; readonly trace: readonly TraceEvent[]; readonly digest: string }
  | { readonly kind: 'passes'; readonly trace: readonly TraceEvent[]; readonly extended: boolean }
  | { readonly kind: 'diverged'; readonly at: number; readonly reason: string };

/** The model a counterexample was found on, with `variant` in place of its own. */
export function modelOf(ce: CounterexampleFile, variant: Variant): Model {
  const scenario = ce.generated
    ? generatedScenario(ce.generated)
    : ce.scenarioFile !== undefined
      ? scenarioFromJson(ce.scenarioFile, `scenario ${ce.scenario} (sealed in the counterexample)`)
      : findScenario(ce.scenario);
  if (!scenario) throw new UserError(`counterexample names unknown scenario '${ce.scenario}'`);
  if (ce.params.cpus < scenario.cpus.min || ce.params.cpus > scenario.cpus.max) {
    throw new UserError(`counterexample has ${ce.params.cpus} cpus; ${scenario.id} takes ${scenario.cpus.min}-${scenario.cpus.max}`);
  }
  const { cpus, mms, ops } = ce.params;
  const p = resolveParams(scenario, { cpus, ...(mms === undefined ? {} : { mms }), ...(ops === undefined ? {} : { ops }) });
  if ('error' in p) throw new UserError(`counterexample parameters: ${p.error}`);
  return prepare({ variant, scenario, params: p.params, features: ce.features, bounds: boundsFromJson(ce.bounds) });
}

/**
 * Replay the tape. On its own variant (`strict`) the tape must fit exactly, move counts
 * included. On another variant, a tape that runs out before the execution ends is continued
 * with default choices (`extended`).
 */
export function replay(ce: CounterexampleFile, variant: Variant, strict: boolean): ReplayOutcome {
  const model = modelOf(ce, variant);
  try {
    const strategy = strict ? new ReplayStrategy(ce.tape, ce.widths) : new ReplayStrategy(ce.tape, undefined, true);
    const r = runExecution(model, strategy, { trace: true });
    const trace = r.trace ?? [];
    if (strict && strategy.unused > 0) {
      return { kind: 'diverged', at: r.steps, reason: `the execution ended with ${strategy.unused} choices left on the tape` };
    }
    if (r.violation) return { kind: 'violated', violation: r.violation, trace, digest: digestFor(ce, trace) };
    return { kind: 'passes', trace, extended: strategy.extended };
  } catch (e) {
    if (e instanceof Divergence) return { kind: 'diverged', at: e.at, reason: e.reason };
    throw e;
  }
}
