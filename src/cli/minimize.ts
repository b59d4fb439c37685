/**
 * `tlbcheck minimize FILE [--variant PATH] [--out DIR]`: shrink a saved counterexample and save
 * the result. Like replay, it never imports a file named inside the counterexample: one found on
 * a variant file needs `--variant PATH`, which must define the variant the file records.
 */
import { dirname, relative, resolve } from 'node:path';
import { loadCounterexample, modelOf, replay, saveCounterexample } from '../counterexample/counterexample.ts';
import { minimize } from '../counterexample/minimize.ts';
import { minimizedCounterexample, sizeText } from '../counterexample/package.ts';
import { UserError } from '../errors.ts';
import { resolveVariant } from '../kernel/load.ts';
import type { Io } from './main.ts';
import { replayVariant } from './replay.ts';

export async function runMinimize(io: Io, file: string, o: { out?: string; json?: boolean; variant?: string }): Promise<number> {
  const ce = loadCounterexample(file);
  const variant = await replayVariant(file, ce, o.variant);
  if (variant.id !== ce.variant) throw new UserError(`${file}: records variant '${ce.variant}', but --variant gives '${variant.id}'; minimize works on the variant it was found on`);
  const path = o.variant === undefined ? undefined : (await resolveVariant(o.variant)).path;
  const check = replay(ce, variant, true);
  if (check.kind === 'diverged') throw new UserError(`${file}: the tape no longer fits ${variant.id} (diverged at step ${check.at}: ${check.reason})`, 3);
  if (check.kind === 'passes') throw new UserError(`${file}: the tape no longer violates anything on ${variant.id}`, 3);
  if (check.violation.invariant !== ce.invariant) {
    throw new UserError(`${file}: the tape now violates ${check.violation.invariant}, the file records ${ce.invariant}`, 3);
  }
  const subject = ce.generated ? { model: modelOf(ce, variant), generated: ce.generated } : { model: modelOf(ce, variant) };
  const m = minimize(subject, ce.tape, ce.invariant);
  const outDir = o.out ?? dirname(file);
  const rel = path === undefined ? undefined : relative(resolve(outDir), path);
  const saved = saveCounterexample(minimizedCounterexample(m, ce.strategy, ce.seed, rel), outDir);
  if (o.json === true) {
    io.out(JSON.stringify({ file, invariant: ce.invariant, before: m.before, after: m.after, candidates: m.candidates, counterexample: saved.path }));
  } else {
    io.out(`${file}: ${ce.variant} on ${ce.scenario}, ${ce.invariant}`);
    io.out(`  minimized: ${sizeText(m.before, m.after)} (${m.candidates} candidates replayed)`);
    io.out(`  counterexample: ${saved.path}${saved.reused ? ' (already saved)' : ''}`);
    io.out(`  replay: npx tlbcheck replay ${saved.path}`);
  }
  return 0;
}
