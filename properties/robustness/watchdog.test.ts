/**
 * Nothing user-written hangs or crashes the process: --time is a hard limit even for a routine
 * that never yields, a routine that stops yielding is named after the stall limit, and one that
 * keeps running effects inside a step stops at the effect budget (printed, and settable).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, scratch, tlbcheck, oneLine, writeVariant } from './files.ts';
import { join } from 'node:path';

const dir = scratch();
afterAll(() => removeDir(dir));
const NO_TC = { TLBCHECK_NO_TYPECHECK: '1' };
const loopBody = "      const v = yield* fx.load(k.L.pcpu(k.cpu, 'loaded_mm'));\n      let n = 0;\n      while (v !== next + 1000) n++;";
const spinBody = "      for (;;) yield* fx.load(k.L.pcpu(k.cpu, 'loaded_mm'));";

describe('a routine that never yields', () => {
  it('check --time 2 stops it: one line naming the routine, well before the stall limit', () => {
    const f = writeVariant(dir, 'loops', loopBody);
    const r = tlbcheck(['check', '--variant', f, '--scenario', 'switch-vs-flush', '--time', '2', '--out', join(dir, 'o')], { env: NO_TC, timeoutMs: 90_000 });
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.err).toMatch(/time budget ran out and the search did not stop: the routine in context_switch on cpu\d at step \d+ runs without yielding an effect/);
  });

  it('without --time, the stall limit (--stall 1) names it', () => {
    const f = writeVariant(dir, 'loops2', loopBody);
    const r = tlbcheck(['check', '--variant', f, '--scenario', 'switch-vs-flush', '--stall', '1', '--out', join(dir, 'o')], { env: NO_TC, timeoutMs: 90_000 });
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.err).toMatch(/no step finished for \d+ s: the routine in context_switch on cpu\d at step \d+ runs without yielding.*stall limit is 1 s/);
  });

  it('gate stops it too, naming the row', () => {
    const f = writeVariant(dir, 'loops3', loopBody);
    const r = tlbcheck(['gate', '--variant', f, '--stall', '2', '--out', join(dir, 'g')], { env: NO_TC, timeoutMs: 120_000 });
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.err).toMatch(/loops3 on [a-z-]+ \(cpus \d\): no step finished for \d+ s: the routine in .* runs without yielding.*stall limit is 2 s; --stall sets it/);
  });

  it('fuzz and replay --variant are watched as well', () => {
    const f = writeVariant(dir, 'loops4', loopBody);
    const r = tlbcheck(['fuzz', '--variant', f, '--runs', '5', '--stall', '2', '--out', join(dir, 'fz')], { env: NO_TC, timeoutMs: 120_000 });
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.err).toMatch(/no step finished for \d+ s.*stall limit is 2 s; --stall sets it/);
  });
});

describe('a routine that yields forever inside one step', () => {
  it('is stopped at the effect budget, which the message prints, instead of exhausting memory', () => {
    const f = writeVariant(dir, 'spins', spinBody);
    const r = tlbcheck(['check', '--variant', f, '--scenario', 'switch-vs-flush', '--max-step-effects', '5000', '--out', join(dir, 'o')], { env: NO_TC });
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.err).toMatch(/routine context_switch on cpu\d ran 5000 effects in step \d+ without ending it .*--max-step-effects/);
  });

  it('the budget is a real bound: far too small a budget stops even a correct built-in variant', () => {
    const ok = tlbcheck(['check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--out', join(dir, 'o')]);
    expect(ok.code).toBe(0);
    const tiny = tlbcheck(['check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--max-step-effects', '1', '--out', join(dir, 'o')]);
    expect(tiny.code).toBe(2);
    expect(tiny.err).toMatch(/ran 1 effects in step \d+ without ending it/);
  });
});
