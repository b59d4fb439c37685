/**
 * The effect-kind table (src/machine/effect-kinds.ts) is the one place a kind is described to
 * the engine: validation runs each kind's own row, and the trace records a kind that has no data
 * shape of its own by its plain fields, which the digest covers like any other data. So adding
 * a kind is its union member, its row, and its semantics (machine and dispatch); its text and
 * its event data have defaults.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EFFECT_KINDS, type EffectKindInfo } from '../src/machine/effect-kinds.ts';
import type { Effect, EffectKind } from '../src/machine/effects.ts';
import { effectProblem } from '../src/machine/validate.ts';
import { effectBody, plainBody } from '../src/explore/event-data.ts';
import { eventsDigest } from '../src/counterexample/digest.ts';
import { describeEffect } from '../src/explore/describe.ts';
import type { TraceEvent } from '../src/explore/trace-event.ts';
import { prepare } from '../src/explore/engine.ts';
import { Sim } from '../src/explore/sim.ts';
import { findVariant } from '../src/kernel/index.ts';
import { findScenario } from '../src/scenario/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';

const LIM = { words: 64, pages: 8, cpus: 2, mms: 2 };
const table = EFFECT_KINDS as Record<EffectKind, EffectKindInfo>;
const saved = { ...table };
afterEach(() => Object.assign(table, saved));

describe('the effect-kind table', () => {
  it("validation of every kind runs that kind's row, and nothing else", () => {
    for (const k of Object.keys(EFFECT_KINDS) as EffectKind[]) {
      table[k] = { ...saved[k], check: () => `row of ${k}` };
      // An effect of the kind with every field missing: the fast path cannot pass it unless the kind has no fields.
      const got = effectProblem({ k }, LIM);
      expect(got === undefined || got === `row of ${k}`, `${k}: ${got}`).toBe(true);
      if (saved[k].check({ k }, LIM) !== undefined) expect(got).toBe(`row of ${k}`);
      table[k] = saved[k];
    }
    expect(effectProblem({ k: 'no-such-kind' }, LIM)).toBe("unknown effect kind 'no-such-kind'");
  });

  it('a kind without a data shape of its own is recorded by its fields; the digest covers them, not the location number', () => {
    const v = findVariant('linux-6.18')!;
    const model = prepare({ variant: v, scenario: findScenario('switch-vs-flush')!, params: { cpus: 2 }, features: { ...v.features }, bounds: { ...DEFAULT_BOUNDS } });
    const sim = Sim.start(model, false);
    const L = model.layout;
    const loc = L.pcpu(0, 'loaded_mm');
    // A made-up kind, as a new one is before effectBody learns its shape.
    const e = { k: 'test-new-kind', loc, level: 3, on: true, at: { tag: 'display only' } } as unknown as Effect;
    const body = effectBody(e, 7, L, sim.m, 0);
    expect(body).toEqual(plainBody(e, 7, L));
    expect(body).toMatchObject({ k: 'effect', kind: 'test-new-kind', fields: { level: 3, on: true }, out: 7 });
    expect(body.k === 'effect' && body.at?.is).toBeTruthy();
    expect(describeEffect(e, 7, L)).toBe('test-new-kind');
    const ev = (b: typeof body): TraceEvent => ({ step: 1, cpu: 0, actor: 'cpu', fn: 'f', text: 't', data: { ...b, sb: 0 } });
    const d = eventsDigest([ev(body)]);
    expect(eventsDigest([ev(plainBody({ ...e, level: 4 } as unknown as Effect, 7, L))])).not.toBe(d);
    expect(eventsDigest([ev(plainBody(e, 8, L))])).not.toBe(d);
    // The same word, numbered differently (the layout moved): the same digest.
    const moved = body.k === 'effect' && body.at ? { ...body, at: { ...body.at, loc: body.at.loc + 100 } } : body;
    expect(eventsDigest([ev(moved)])).toBe(d);
  });
});
