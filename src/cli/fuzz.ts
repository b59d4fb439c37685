/**
 * `tlbcheck fuzz --variant V [--seed N] [--runs N] [--path P] [--out DIR] [--json]`: the
 * property "V never violates any invariant" over generated scenarios and tapes. Exit codes
 * are check's: 1 a violation (saved, minimized), 0 none found (which proves nothing).
 */
import { relative, resolve } from 'node:path';
import { saveCounterexample } from '../counterexample/counterexample.ts';
import { minimizedCounterexample, sizeText } from '../counterexample/package.ts';
import { fuzz } from '../fuzz/fuzz.ts';
import { resolveVariant } from '../kernel/load.ts';
import { describeSpec } from '../scenario/generated.ts';
import { checkScenarioCalls, resolveScenario } from '../scenario/resolve.ts';
import type { Io } from './main.ts';
import { replayCommand } from '../gate/report.ts';
import { isVariantFile } from '../kernel/load.ts';

export interface FuzzCliOptions {
  readonly variant: string;
  readonly seed: number;
  readonly runs: number;
  readonly path?: string;
  readonly out: string;
  readonly json?: boolean;
  readonly scenario?: string;
}

export async function runFuzz(io: Io, o: FuzzCliOptions): Promise<number> {
  const { variant, path: file } = await resolveVariant(o.variant);
  const scenario = o.scenario === undefined ? undefined : resolveScenario(o.scenario);
  if (scenario) checkScenarioCalls(scenario, variant);
  const r = fuzz(variant, { seed: o.seed, runs: o.runs, ...(o.path === undefined ? {} : { path: o.path }), ...(scenario ? { scenario } : {}) });
  if (r.verdict === 'no-violation') {
    if (o.json === true) io.out(JSON.stringify({ verdict: r.verdict, variant: variant.id, seed: r.seed, runs: r.runs, path: null, counterexample: null }));
    else {
      io.out(`fuzz ${variant.id}: NO-VIOLATION in ${r.runs} runs (seed ${r.seed})`);
      io.out(`  ${scenario ? `choice tapes on ${scenario.id}` : 'generated scenarios and choice tapes'} found nothing; this proves nothing`);
    }
    return 0;
  }
  const m = r.minimized;
  const rel = file === undefined ? undefined : relative(resolve(o.out), file);
  const saved = saveCounterexample(minimizedCounterexample(m, 'fuzz', r.seed, rel), o.out);
  const again = `npx tlbcheck fuzz --variant ${o.variant}${o.scenario === undefined ? '' : ` --scenario ${o.scenario}`} --seed ${r.seed} --path "${r.path}"`;
  if (o.json === true) {
    io.out(
      JSON.stringify({
        verdict: r.verdict,
        variant: variant.id,
        seed: r.seed,
        runs: r.runs,
        path: r.path,
        invariant: m.violation.invariant,
        message: m.violation.message,
        shrunk: r.shrunk ?? null,
        generated: m.subject.generated ?? null,
        minimized: { before: m.before, after: m.after },
        counterexample: saved.path,
      }),
    );
    return 1;
  }
  io.out(`fuzz ${variant.id}: VIOLATED ${m.violation.invariant} after ${r.runs} runs (seed ${r.seed}, path "${r.path}")`);
  io.out(`  ${m.violation.message}`);
  if (r.shrunk) io.out(`  fast-check shrank the scenario to: ${describeSpec(r.shrunk)}`);
  if (m.subject.generated) io.out(`  minimized scenario: ${describeSpec(m.subject.generated)}`);
  io.out(`  minimized: ${sizeText(m.before, m.after)}`);
  io.out(`  counterexample: ${saved.path}${saved.reused ? ' (already saved)' : ''}`);
  io.out(`  replay: ${replayCommand(saved.path, isVariantFile(o.variant) ? o.variant : undefined)}`);
  io.out(`  reproduce: ${again}`);
  return 1;
}
