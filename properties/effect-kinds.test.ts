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
import { dropCpuData } from '../src/counterexample/minimize.ts';
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
    // The kinds validation's allocation-free fast path passes without looking at any field.
    const fastNoFields = new Set(['leave', 'mfence', 'iret', 'read-cr3', 'irqs-disabled', 'read-pasid-msr']);
    for (const k of Object.keys(EFFECT_KINDS) as EffectKind[]) {
      let asked = 0;
      table[k] = {
        ...saved[k],
        check: () => {
          asked++;
          return `row of ${k}`;
        },
      };
      // An effect of the kind with every field missing.
      const got = effectProblem({ k }, LIM);
      if (fastNoFields.has(k)) expect(got, k).toBeUndefined();
      else {
        expect(asked, k).toBe(1);
        expect(got).toBe(`row of ${k}`);
      }
      table[k] = saved[k];
    }
    expect(effectProblem({ k: 'no-such-kind' }, LIM)).toBe("unknown effect kind 'no-such-kind'");
    // Names every object has are not kinds.
    expect(effectProblem({ k: 'toString' }, LIM)).toBe("unknown effect kind 'toString'");
    expect(effectProblem({ k: '__proto__' }, LIM)).toBe("unknown effect kind '__proto__'");
    expect(effectProblem({ k: 3 }, LIM)).toBe('unknown effect kind 3');
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

  it('the minimizer places the word such a kind names in the smaller world, as it does a store', () => {
    const v = findVariant('linux-6.18')!;
    const world = (cpus: number) => prepare({ variant: v, scenario: findScenario('switch-vs-flush')!, params: { cpus }, features: { ...v.features }, bounds: { ...DEFAULT_BOUNDS } });
    const big = world(3);
    const small = world(2);
    const loc = big.layout.pcpu(2, 'loaded_mm');
    const body = plainBody({ k: 'test-new-kind', loc, level: 3 } as unknown as Effect, undefined, big.layout);
    const at = body.k === 'effect' ? body.at! : undefined;
    expect(at).toBeDefined();
    const dropped = dropCpuData({ ...body, sb: 0 }, 1, small.layout);
    const asStore = dropCpuData({ k: 'store', at: at!, val: { v: 0, shown: '0' }, buffered: false, sb: 0 }, 1, small.layout);
    expect(dropped.k === 'effect' && dropped.at).toEqual(asStore.k === 'store' && asStore.at);
    // cpu2's word became cpu1's.
    expect(dropped.k === 'effect' && dropped.at?.loc).toBe(small.layout.pcpu(1, 'loaded_mm'));
  });
});
