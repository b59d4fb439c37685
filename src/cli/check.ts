/** `tlbcheck check`. */
import { buildCounterexample, saveCounterexample } from '../counterexample/counterexample.ts';
import { type Minimized, minimize } from '../counterexample/minimize.ts';
import { minimizedCounterexample, sizeText } from '../counterexample/package.ts';
import { type StrategyName, search } from '../explore/check.ts';
import { prepare } from '../explore/engine.ts';
import { resolveVariant } from '../kernel/load.ts';
import { resolveCVariant, wholeFileNote } from '../kc/load-c.ts';
import type { CVariant } from '../kc/variant.ts';
import { checkJson, checkText } from '../report/format.ts';
import type { Io } from './main.ts';
import { configOf } from './options.ts';
import { UserError } from '../errors.ts';
import { relative, resolve } from 'node:path';

export async function runCheck(io: Io, o: Record<string, unknown>): Promise<number> {
  const spec = String(o['variant']);
  // --base: a whole kernel tlb.c (no tlbcheck header) checked on a C generation (issue 13).
  const { variant, path } = typeof o['base'] === 'string' ? await resolveCVariant(spec, process.cwd(), { base: o['base'] }) : await resolveVariant(spec);
  const note = 'spec' in variant ? wholeFileNote(variant as CVariant) : undefined;
  if (note !== undefined && o['json'] !== true) io.out(note);
  const cfg = configOf(variant, o);
  const model = prepare(cfg);
  if (o['strategy'] !== 'dfs' && o['stateless'] === true) throw new UserError('--stateless goes with --strategy dfs');
  const strategy = o['strategy'] as StrategyName;
  const seed = o['seed'] as number;
  const r = search(model, {
    strategy,
    seed,
    ...(typeof o['maxExecutions'] === 'number' ? { maxExecutions: o['maxExecutions'] } : {}),
    ...(typeof o['time'] === 'number' ? { timeMs: o['time'] * 1000 } : {}),
    ...(o['stateless'] === true ? { stateless: true } : {}),
    depth: o['depth'] as number,
    ...(o['por'] === false ? { por: false } : {}),
    delays: o['delays'] as number,
  });
  let saved: { path: string; reused: boolean } | undefined;
  let minimized: Minimized | undefined;
  if (r.violation && r.tape && r.widths) {
    const outDir = String(o['out']);
    // A user variant is recorded relative to the counterexample, never as a machine path.
    const rel = path === undefined ? undefined : relative(resolve(outDir), path);
    // A swarm run records its own budgets: the tape replays under them.
    const foundModel = r.bounds === cfg.bounds ? model : prepare({ ...cfg, bounds: r.bounds });
    const found = { violation: r.violation, tape: r.tape, widths: r.widths, strategy, seed };
    // Minimized unless --no-minimize: the saved file is the simplest execution the minimizer finds.
    minimized = o['minimize'] === false ? undefined : minimize({ model: foundModel }, r.tape, r.violation.invariant);
    const ce = minimized ? minimizedCounterexample(minimized, strategy, seed, rel) : buildCounterexample(foundModel, found, rel);
    saved = saveCounterexample(ce, outDir);
  }
  if (o['json'] === true) {
    const sizes = minimized ? { minimized: { before: minimized.before, after: minimized.after } } : {};
    io.out(JSON.stringify({ ...checkJson(r, saved?.path), ...sizes }));
  } else {
    io.out(checkText(r, saved));
    if (minimized) io.out(`  minimized: ${sizeText(minimized.before, minimized.after)}`);
  }
  switch (r.verdict) {
    case 'violated':
      return 1;
    case 'inconclusive':
      return 3;
    default:
      return 0;
  }
}
