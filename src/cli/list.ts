/** `tlbcheck list`. */
import { INVARIANTS } from '../invariants/index.ts';
import { allBuiltins } from '../kc/builtins.ts';
import type { Variant } from '../kernel/variant.ts';
import { formatFeatures } from '../machine/types.ts';
import { SCENARIOS } from '../scenario/index.ts';
import { describeParams } from '../scenario/params.ts';
import { columns } from '../report/columns.ts';
import type { Io } from './main.ts';

export function catalogue(variants: readonly Variant[]) {
  return {
    variants: variants.map((v) => ({
      id: v.id,
      title: v.title,
      kind: v.kind,
      base: v.base ?? v.generation,
      generation: v.generation,
      source: v.source,
      features: v.features,
      fixedBy: v.fixedBy ?? null,
      expect: v.expect.map((e) => ({ ...e, verdict: e.verdict })),
    })),
    scenarios: SCENARIOS.map((s) => ({
      id: s.id,
      title: s.title,
      description: s.description,
      cpus: s.cpus,
      ...(s.mms ? { mms: s.mms } : {}),
      ...(s.ops ? { ops: s.ops } : {}),
      ...(s.features ? { features: s.features } : {}),
      ...(s.requires ? { requires: s.requires } : {}),
      /** The invariants the scenario expects to matter (all of them unless it names some). */
      invariants: s.invariants ?? INVARIANTS.map((i) => i.id),
      params: describeParams(s),
    })),
    invariants: INVARIANTS.map((i) => ({ id: i.id, title: i.title, encodes: i.encodes, scope: i.scope })),
  };
}

export async function runList(io: Io, json: boolean): Promise<number> {
  // Built here, not at import: the other commands build only the variant they run.
  const builtins = await allBuiltins();
  const c = catalogue(builtins);
  if (json) {
    io.out(JSON.stringify(c));
    return 0;
  }
  // One column width per section, as wide as its widest id: long ids no longer push titles out of line.
  io.out('VARIANTS');
  const variants = builtins.flatMap((v) => [
    [v.id, v.kind, v.title],
    ['', '', `features ${formatFeatures(v.features)}; ${v.source}`],
  ]);
  for (const l of columns(variants, undefined, '  ')) io.out(l);
  io.out('SCENARIOS');
  const scenarios = SCENARIOS.flatMap((s) => [
    [s.id, `cpus ${s.cpus.min}-${s.cpus.max} (default ${s.cpus.default})`, s.title],
    ...(s.mms || s.ops ? [['', '', describeParams(s)]] : []),
  ]);
  for (const l of columns(scenarios, undefined, '  ')) io.out(l);
  io.out('INVARIANTS');
  for (const l of columns(INVARIANTS.map((i) => [i.id, i.title]), undefined, '  ')) io.out(l);
  return 0;
}
