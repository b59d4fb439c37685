/**
 * `tlbcheck replay FILE [--variant ID|PATH]`.
 *
 * A counterexample is data, never code: without `--variant` it replays only on the built-in
 * variant it names. A file recorded on a variant file (`variantPath`) is refused with a line
 * saying which file and to pass `--variant PATH`; replaying a file from a bug report must never
 * import code that the file names. A file that disagrees with its own digest is refused as
 * tampered (exit 2, `loadCounterexample`); a faithful file whose replay no longer reproduces
 * its recorded trace means the model changed since it was saved (exit 3).
 */
import { type AlignedOutcome, type Difference, replayAligned } from '../counterexample/align.ts';
import { type ReplayOutcome, digestRule, loadCounterexample, modelOf, recordedTraceDigest, replay } from '../counterexample/counterexample.ts';
import type { CounterexampleFile } from '../counterexample/schema.ts';
import { UserError } from '../errors.ts';
import { cBuiltin } from '../kc/builtins.ts';
import { resolveVariant } from '../kernel/load.ts';
import type { Variant } from '../kernel/variant.ts';
import { renderColumns } from '../report/trace.ts';
import type { TraceEvent } from '../explore/sim.ts';
import { annotate, buildTimeline } from '../report/timeline.ts';
import { whyJson } from '../report/why.ts';
import { formatBounds } from '../machine/types.ts';
import { boundsFromJson } from '../counterexample/counterexample.ts';
import { writeTimelinePage } from './html-out.ts';
import type { Io } from './main.ts';
import { dirname, relative, resolve } from 'node:path';
import { readScenarioFile } from '../scenario/from-file.ts';
import { canonicalJson, isScenarioPath } from '../scenario/resolve.ts';

/**
 * The variant to replay `ce` on: `--variant` when given (the user's choice of code to run),
 * else the built-in variant the file names. Never a file named inside the counterexample.
 */
export async function replayVariant(file: string, ce: CounterexampleFile, spec: string | undefined): Promise<Variant> {
  if (spec !== undefined) return (await resolveVariant(spec)).variant;
  if (ce.variantPath !== undefined) {
    const shown = relative(process.cwd(), resolve(dirname(file), ce.variantPath)) || ce.variantPath;
    throw new UserError(
      `${file}: found on the variant file ${shown} (variant '${ce.variant}'); a counterexample never names code to run, so pass it yourself: --variant ${shown}`,
    );
  }
  const builtin = cBuiltin(ce.variant);
  if (!builtin) throw new UserError(`${file}: names variant '${ce.variant}', which is not built in; pass --variant PATH to replay it on a variant file`);
  return builtin;
}

/**
 * `--scenario ID|FILE` on replay: the scenario must be the one the counterexample was found on
 * (a file's content is sealed in the counterexample, so replay never needs it; a different file
 * is refused in one line).
 */
export function checkReplayScenario(file: string, ce: CounterexampleFile, spec: string | undefined): void {
  if (spec === undefined) return;
  if (!isScenarioPath(spec)) {
    if (ce.scenarioFile !== undefined || spec !== ce.scenario) throw new UserError(`${file}: was found on scenario ${ce.scenarioFile !== undefined ? 'file ' : ''}'${ce.scenario}', not on built-in scenario '${spec}'`);
    return;
  }
  if (ce.scenarioFile === undefined) throw new UserError(`${file}: was found on built-in scenario '${ce.scenario}', not on a scenario file (${spec})`);
  const given = readScenarioFile(resolve(spec), spec).file!.json;
  if (canonicalJson(given) !== canonicalJson(ce.scenarioFile)) {
    throw new UserError(`${spec} differs from the scenario '${ce.scenario}' sealed in ${file} (the file changed since the counterexample was found; replay without --scenario uses the sealed one)`);
  }
}

export async function runReplay(io: Io, file: string, o: { variant?: string; json?: boolean; html?: string; scenario?: string }): Promise<number> {
  const ce = loadCounterexample(file);
  checkReplayScenario(file, ce, o.scenario);
  const variant = await replayVariant(file, ce, o.variant);
  const strict = variant.id === ce.variant;
  // On another variant the recorded steps are aligned by actor and operation, not by index.
  const out: ReplayOutcome | AlignedOutcome = strict ? replay(ce, variant, true) : replayAligned(modelOf(ce, variant), ce.trace, digestRule(ce));
  const diff: Difference | undefined = strict ? undefined : (out as AlignedOutcome).firstDifference;
  const head = `${file}: ${ce.variant} on ${ce.scenario} (cpus ${ce.params.cpus}), tape of ${ce.tape.length} choices${strict ? '' : `, replayed on ${variant.id}`}`;
  let code: number;
  let verdict: string;
  switch (out.kind) {
    case 'diverged':
      verdict = `diverged at step ${out.at}: ${out.reason}`;
      code = 3;
      break;
    case 'passes':
      verdict = `passes${out.extended ? ' (the tape ran out; the rest ran with default choices)' : ''}`;
      code = 0;
      break;
    case 'violated':
      const recorded = recordedTraceDigest(ce);
      if (strict && out.digest !== recorded) {
        throw new UserError(`${file}: trace digest mismatch (recorded ${recorded.slice(0, 19)}…, replay ${out.digest.slice(0, 19)}…): the model changed since it was saved`, 3);
      }
      verdict = out.violation.invariant === ce.invariant ? `still violated: ${out.violation.invariant}` : `violated ${out.violation.invariant} (the file records ${ce.invariant})`;
      code = 1;
      break;
  }
  const trace: readonly TraceEvent[] = out.kind !== 'diverged' ? out.trace : strict ? [] : (out as Extract<AlignedOutcome, { kind: 'diverged' }>).trace;
  const timeline = buildTimeline(trace, ce.params.cpus, out.kind === 'violated' ? out.violation : undefined);
  if (o.html !== undefined) {
    const facts = [
      `${variant.id} on ${ce.scenario} (cpus ${ce.params.cpus})${strict ? '' : `, the tape of ${ce.variant} aligned on ${variant.id}`}`,
      `bounds: ${formatBounds(boundsFromJson(ce.bounds))}; tape of ${ce.tape.length} choices; ${file}`,
      verdict,
    ];
    writeTimelinePage(o.html, timeline, `tlbcheck: ${variant.id} on ${ce.scenario}`, facts);
  }
  if (o.json === true) {
    io.out(
      JSON.stringify({
        file,
        variant: variant.id,
        recordedVariant: ce.variant,
        scenario: ce.scenario,
        cpus: ce.params.cpus,
        outcome: out.kind,
        invariant: out.kind === 'violated' ? out.violation.invariant : null,
        message: out.kind === 'violated' ? out.violation.message : null,
        divergedAt: out.kind === 'diverged' ? out.at : null,
        firstDifference: diff ?? null,
        digest: out.kind === 'violated' ? out.digest : null,
        why: timeline.why?.text ?? null,
        chain: timeline.why ? whyJson(timeline.why, trace) : null,
        trace: out.kind === 'diverged' ? [] : out.trace,
      }),
    );
    return code;
  }
  io.out(head);
  if (timeline.why) io.out(`why: ${timeline.why.text}`);
  if (out.kind !== 'diverged') io.out(renderColumns(annotate(timeline), ce.params.cpus));
  if (out.kind === 'violated') io.out(`VIOLATION ${out.violation.invariant}: ${out.violation.message}`);
  if (timeline.violation) io.out(`  invariant: ${timeline.violation.words}`);
  if (!strict) {
    const a = out as AlignedOutcome;
    io.out(diff ? `aligned on ${variant.id}: first difference at step ${diff.step}: ${diff.text} (${a.skipped} recorded steps dropped, ${a.inserted} inserted)` : `aligned on ${variant.id}: every recorded step matched`);
  }
  io.out(verdict);
  if (o.html !== undefined) io.out(`timeline: ${o.html}`);
  return code;
}
