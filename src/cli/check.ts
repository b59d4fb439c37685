/** `tlbcheck check`. */
import { buildCounterexample, saveCounterexample } from '../counterexample/counterexample.ts';
import { type StrategyName, search } from '../explore/check.ts';
import { prepare } from '../explore/engine.ts';
import { resolveVariant } from '../kernel/load.ts';
import { checkJson, checkText } from '../report/format.ts';
import type { Io } from './main.ts';
import { configOf } from './options.ts';
import { UserError } from '../errors.ts';
import { relative, resolve } from 'node:path';

export async function runCheck(io: Io, o: Record<string, unknown>): Promise<number> {
  const { variant, path } = await resolveVariant(String(o['variant']));
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
  if (r.violation && r.tape && r.widths) {
    const outDir = String(o['out']);
    // A user variant is recorded relative to the counterexample, never as a machine path.
    const rel = path === undefined ? undefined : relative(resolve(outDir), path);
    const found = r.bounds === cfg.bounds ? model : prepare({ ...cfg, bounds: r.bounds });
    const ce = buildCounterexample(found, { violation: r.violation, tape: r.tape, widths: r.widths, strategy, seed }, rel);
    saved = saveCounterexample(ce, outDir);
  }
  if (o['json'] === true) io.out(JSON.stringify(checkJson(r, saved?.path)));
  else io.out(checkText(r, saved));
  switch (r.verdict) {
    case 'violated':
      return 1;
    case 'inconclusive':
      return 3;
    default:
      return 0;
  }
}
