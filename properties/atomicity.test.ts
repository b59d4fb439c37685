/**
 * The coarse step rules (COARSE_STEPS in src/explore/sim.ts: instant per-CPU data with IRQs
 * off, local_irq_enable folded into the step before, local_irq_disable and smp_mb() into the
 * step after, serializing effects waiting for the drain actor) against one observable effect
 * per step (FINE_STEPS): on every variant and scenario that fits at 2 CPUs, the same violated
 * invariants and the same final states. A rule that is not a mover (a step that goes
 * on past local_irq_enable, which hides an IPI that could come right after it) is shown to
 * change them, so the comparison can fail.
 */
import { describe, expect, it } from 'vitest';
import { type Atomicity, COARSE_STEPS, FINE_STEPS, type Model, prepare } from '../src/explore/sim.ts';
import { statefulDfs } from '../src/explore/stateful.ts';
import { VARIANTS } from '../src/kernel/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario, scenarioFits } from '../src/scenario/index.ts';
import type { Variant } from '../src/kernel/variant.ts';

const SCENARIOS = ['switch-vs-flush', 'switch-vs-flush-local', 'lazy-flush', 'lazy-free-pgtables', 'pti-return-to-user', 'kernel-range-flush', 'pasid-update', 'asid-reuse', 'concurrent-flushes'];

function outcomes(v: Variant, scenario: string, atomicity: Atomicity, cpus = 2): { finals: number[]; invariants: string[]; states: number } {
  const model: Model = prepare({ variant: v, scenario: findScenario(scenario)!, params: { cpus }, features: v.features, bounds: DEFAULT_BOUNDS }, undefined, atomicity);
  const finals = new Set<number>();
  const invariants = new Set<string>();
  const r = statefulDfs(model, { all: true, final: (s) => finals.add(s.fingerprint()), violation: (x) => invariants.add(x.invariant) });
  expect(r.complete).toBe(true);
  return { finals: [...finals].sort((a, b) => a - b), invariants: [...invariants].sort(), states: r.states };
}

/**
 * Treats local_irq_enable as a both-mover, so a step may go on past it: an IPI that could come
 * right after it is lost. (The first cut of the coarse rules had this bug; this test caught it.)
 */
const IRQ_ENABLE_MID_STEP: Atomicity = { ...COARSE_STEPS, leftOnly: () => false };

describe('coarse steps reach what one effect per step reaches', () => {
  for (const v of VARIANTS) {
    const fits = SCENARIOS.filter((s) => scenarioFits(findScenario(s)!, v.routines));
    if (fits.length === 0) continue;
    it(`${v.id} on ${fits.join(', ')}, 2 cpus: same violated invariants and final states, fewer states`, () => {
      for (const s of fits) {
        const coarse = outcomes(v, s, COARSE_STEPS);
        const fine = outcomes(v, s, FINE_STEPS);
        expect(coarse.invariants, `${v.id} ${s}`).toEqual(fine.invariants);
        expect(coarse.finals, `${v.id} ${s}`).toEqual(fine.finals);
        expect(coarse.states, `${v.id} ${s}`).toBeLessThan(fine.states);
      }
    });
  }

  for (const [id, s] of [
    ['linux-4.20', 'lazy-free-pgtables'],
    ['linux-6.18', 'switch-vs-flush'],
  ] as const) {
    it(`${id} on ${s}, 3 cpus: same violated invariants and final states`, () => {
      const v = VARIANTS.find((x) => x.id === id)!;
      const coarse = outcomes(v, s, COARSE_STEPS, 3);
      const fine = outcomes(v, s, FINE_STEPS, 3);
      expect(coarse.invariants).toEqual(fine.invariants);
      expect(coarse.finals).toEqual(fine.finals);
    });
  }

  it('a rule that is not a mover changes the outcomes (the comparison can fail)', () => {
    const v = VARIANTS.find((x) => x.id === 'linux-6.18')!;
    const right = outcomes(v, 'lazy-flush', FINE_STEPS);
    const wrong = outcomes(v, 'lazy-flush', IRQ_ENABLE_MID_STEP);
    expect(wrong.finals).not.toEqual(right.finals);
  });
});
