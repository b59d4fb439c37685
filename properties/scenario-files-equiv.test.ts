/**
 * TEMPORARY (deleted with the TypeScript scenario builders): every built-in scenario read from
 * scenarios/<id>.json builds the same world as its TypeScript builder, for every CPU count and
 * parameter value, and the same traces on random executions.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../src/scenario/index.ts';
import { FILE_SCENARIOS } from '../src/scenario/builtin-files.ts';
import { prepare, runExecution } from '../src/explore/engine.ts';
import { RandomStrategy } from '../src/explore/random.ts';
import { findVariant } from '../src/kernel/index.ts';
import { DEFAULT_BOUNDS, featuresOf } from '../src/machine/types.ts';
import type { Scenario, ScenarioParams, World } from '../src/scenario/world.ts';
import type { SegmentedProgram } from '../src/scenario/world.ts';

function paramsOf(s: Scenario): ScenarioParams[] {
  const out: ScenarioParams[] = [];
  for (let cpus = s.cpus.min; cpus <= s.cpus.max; cpus++) {
    const mmsV = s.mms ? Array.from({ length: s.mms.max - s.mms.min + 1 }, (_, i) => s.mms!.min + i) : [undefined];
    const opsV = s.ops ? Array.from({ length: s.ops.max - s.ops.min + 1 }, (_, i) => s.ops!.min + i) : [undefined];
    for (const mms of mmsV) for (const ops of opsV) out.push({ cpus, ...(mms === undefined ? {} : { mms }), ...(ops === undefined ? {} : { ops }) });
  }
  return out;
}

const data = (w: World) => ({
  pages: w.pages,
  mms: w.mms,
  memory: [...w.memory.entries()].sort((a, b) => a[0] - b[0]),
  vas: w.vas,
  cpuStart: w.cpuStart,
  parts: w.programs.map((p) => (p as Partial<SegmentedProgram>).parts?.length ?? 1),
});

const VARIANT: Record<string, string> = {
  'kernel-range-flush': 'linux-4.15-pti',
  'pasid-update': 'pasid-ipi-mb',
  'broadcast-flush': 'linux-6.18',
  'broadcast-transition': 'linux-6.18',
};

describe('built-in scenario files equal the TypeScript builders', () => {
  it('has the same scenarios in the same order', () => {
    expect(FILE_SCENARIOS.map((s) => s.id)).toEqual(SCENARIOS.map((s) => s.id));
  });
  for (const ts of SCENARIOS) {
    it(ts.id, () => {
      const f = FILE_SCENARIOS.find((s) => s.id === ts.id)!;
      const { build: _b1, ...meta1 } = ts;
      const { build: _b2, ...meta2 } = f;
      expect(meta2).toEqual(meta1);
      for (const p of paramsOf(ts)) {
        expect(data(f.build(p)), JSON.stringify(p)).toEqual(data(ts.build(p)));
        const v = findVariant(VARIANT[ts.id] ?? 'linux-4.14')!;
        const features = featuresOf({ ...v.features, ...(ts.features ? Object.fromEntries(ts.features.map((x) => [x, true])) : {}) });
        for (let seed = 1; seed <= 6; seed++) {
          const run = (s: Scenario) => {
            const r = runExecution(prepare({ variant: v, scenario: s, params: p, features, bounds: DEFAULT_BOUNDS }), new RandomStrategy(seed), { trace: true });
            return { trace: (r.trace ?? []).map(({ data: _d, ...e }) => e), tape: r.tape, violation: r.violation?.invariant };
          };
          expect(run(f), `${JSON.stringify(p)} seed ${seed}`).toEqual(run(ts));
        }
      }
    });
  }
});
