/**
 * A clone shares its parent's CPU state until one of them changes it (Machine.mut): whatever
 * a clone does, its parent's state (fingerprint) stays as it was and the parent then runs
 * exactly as a state that was never cloned, and the same holds the other way round.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Model, Sim, prepare } from '../src/explore/engine.ts';
import { findVariant } from '../src/kernel/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';

const modelOf = (variant: string, scenario: string, cpus: number, features: Record<string, boolean> = {}): Model => {
  const v = findVariant(variant)!;
  return prepare({ variant: v, scenario: findScenario(scenario)!, params: { cpus }, features: { ...v.features, ...features }, bounds: DEFAULT_BOUNDS });
};

/** Take choices (modulo the enabled moves) from `sim` while it runs; the fingerprints after each step. */
function run(sim: Sim, choices: readonly number[]): number[] {
  const out: number[] = [];
  for (const x of choices) {
    const moves = sim.enabledMoves();
    if (moves.length === 0 || sim.violation) break;
    if (!sim.apply(moves[x % moves.length]!, undefined)) break;
    out.push(sim.fingerprint());
  }
  return out;
}

describe('copy-on-write CPU state', () => {
  const models = [
    modelOf('linux-4.13', 'switch-vs-flush', 3),
    modelOf('linux-6.18', 'lazy-free-pgtables', 3),
    modelOf('linux-6.18', 'kernel-range-flush-global', 2, { invlpgb: true }),
  ];
  for (const model of models) {
    it(`${model.cfg.variant.id} on ${model.cfg.scenario.id}: a clone's steps never show in its parent`, () => {
      fc.assert(
        fc.property(fc.array(fc.nat(7), { maxLength: 40 }), fc.nat(40), fc.array(fc.nat(7), { maxLength: 40 }), (prefix, at, rest) => {
          const parent = Sim.start(model, false);
          run(parent, prefix.slice(0, at));
          const before = parent.fingerprint();
          const child = parent.clone();
          run(child, rest);
          expect(parent.fingerprint()).toBe(before);
          // The parent goes on as a twin that was never cloned.
          const twin = Sim.start(model, false);
          run(twin, prefix.slice(0, at));
          expect(run(parent, rest)).toEqual(run(twin, rest));
        }),
        { numRuns: 60, seed: 1 },
      );
    });

    it(`${model.cfg.variant.id} on ${model.cfg.scenario.id}: a parent's steps never show in its clone`, () => {
      fc.assert(
        fc.property(fc.array(fc.nat(7), { maxLength: 40 }), fc.nat(40), fc.array(fc.nat(7), { maxLength: 40 }), fc.array(fc.nat(7), { maxLength: 40 }), (prefix, at, first, rest) => {
          const parent = Sim.start(model, false);
          run(parent, prefix.slice(0, at));
          const child = parent.clone();
          const before = child.fingerprint();
          // The parent moves on (as BFS and DPOR keep states and go on from them)...
          run(parent, first);
          expect(child.fingerprint()).toBe(before);
          // ...and the clone then runs as a twin that was never shared.
          const twin = Sim.start(model, false);
          run(twin, prefix.slice(0, at));
          expect(run(child, rest)).toEqual(run(twin, rest));
        }),
        { numRuns: 60, seed: 1 },
      );
    });

    it(`${model.cfg.variant.id} on ${model.cfg.scenario.id}: a CPU's cached hash is never stale`, () => {
      fc.assert(
        fc.property(fc.array(fc.nat(7), { maxLength: 60 }), (choices) => {
          // One run hashes after every step (caching each CPU's part); the other only at the end.
          const hashed = Sim.start(model, false);
          const steps = run(hashed, choices);
          const plain = Sim.start(model, false);
          for (const x of choices.slice(0, steps.length)) {
            const moves = plain.enabledMoves();
            plain.apply(moves[x % moves.length]!, undefined);
          }
          expect(plain.fingerprint()).toBe(hashed.fingerprint());
        }),
        { numRuns: 60, seed: 1 },
      );
    });
  }
});
