/** `tlbcheck list`. */
import { INVARIANTS } from '../invariants/index.ts';
import { VARIANTS } from '../kernel/index.ts';
import { formatFeatures } from '../machine/types.ts';
import { SCENARIOS } from '../scenario/index.ts';
import { describeParams } from '../scenario/params.ts';
import type { Io } from './main.ts';

export function catalogue() {
  return {
    variants: VARIANTS.map((v) => ({
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
    })),
    invariants: INVARIANTS.map((i) => ({ id: i.id, title: i.title, encodes: i.encodes, scope: i.scope })),
  };
}

export function runList(io: Io, json: boolean): number {
  const c = catalogue();
  if (json) {
    io.out(JSON.stringify(c));
    return 0;
  }
  io.out('VARIANTS');
  for (const v of VARIANTS) {
    io.out(`  ${v.id.padEnd(32)} ${v.kind.padEnd(5)} ${v.title}`);
    io.out(`  ${''.padEnd(32)}       features ${formatFeatures(v.features)}; ${v.source}`);
  }
  io.out('SCENARIOS');
  for (const s of SCENARIOS) {
    io.out(`  ${s.id.padEnd(32)} cpus ${s.cpus.min}-${s.cpus.max} (default ${s.cpus.default})  ${s.title}`);
    if (s.mms || s.ops) io.out(`  ${''.padEnd(32)} ${describeParams(s)}`);
  }
  io.out('INVARIANTS');
  for (const i of INVARIANTS) io.out(`  ${i.id.padEnd(32)} ${i.title}`);
  return 0;
}
