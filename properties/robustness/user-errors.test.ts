/**
 * A mistake in a user's variant file is reported as the user's: one line naming the file, the
 * routine, file:line:col where known and the step; exit 2. Never `[tlbcheck bug]`, exit 70, a
 * stack trace, or a silent verdict.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, scratch, tlbcheck, oneLine, writeVariant } from './files.ts';

const dir = scratch();
afterAll(() => removeDir(dir));

const check = (file: string, env: NodeJS.ProcessEnv = {}) => tlbcheck(['check', '--variant', file, '--scenario', 'switch-vs-flush', '--out', join(dir, 'out')], { cwd: dir, env });
// Malformed effects are what a .js file, or a cast, can yield past the type checker: these
// cases skip it, to reach the engine's own validation.
const UNTYPED = { TLBCHECK_NO_TYPECHECK: '1' };

describe('a routine that misbehaves is a model error naming it', () => {
  it('a routine that throws: the file, the routine, the step and file:line:col', () => {
    const f = writeVariant(dir, 'throws', "      const v = yield* fx.load(k.L.pcpu(k.cpu, 'loaded_mm'));\n      if (v !== next) throw new Error('boom');");
    const r = check(f, UNTYPED);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.err).toMatch(/throws\.ts: routine context_switch on cpu\d at step \d+: boom \(.*throws\.ts:10:\d+\)/);
  });

  it.each([
    ['an unknown effect kind', "      yield { k: 'frobnicate' } as never;", /unknown effect kind 'frobnicate'/],
    ['a location outside memory', '      yield* fx.load(-12345);', /location -12345 is outside memory/],
    ['a store of a string', "      yield* fx.store(k.L.pcpu(k.cpu, 'loaded_mm'), 'x' as unknown as number);", /val 'x' is not a 32-bit integer/],
    ['an IPI to a CPU that does not exist', "      yield* fx.smpMb(); yield { k: 'ipi', target: 7, via: 'lock', call: { sender: k.cpu, fn: 'f', payload: null, csd: 0 } } as never;", /cpu 7 does not exist/],
    ['an mm that does not exist', '      yield* fx.lockBts(k.L.cpumask(99), k.cpu);', /no mm mm99/],
    ['per-CPU data of a CPU that does not exist', "      yield* fx.load(k.L.pcpu(9, 'loaded_mm'));", /cpu 9, which does not exist/],
  ])('%s', (_name, body, message) => {
    const f = writeVariant(dir, `bad-${String(_name).toLowerCase().replace(/\W+/g, '-')}`, body);
    const r = check(f, UNTYPED);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/routine context_switch on cpu\d at step \d+/);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.out).toBe('');
  });

  it('a syntax error names file:line:col', () => {
    const f = join(dir, 'syntax.ts');
    writeFileSync(f, "import { derive } from 'tlbcheck';\nexport default derive(;\n");
    const r = check(f);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.err).toMatch(/syntax\.ts:2:\d+: /);
  });

  it('a type error is caught before anything runs, with file:line:col', () => {
    const f = writeVariant(dir, 'typeerr', '      const s: string = next;\n      void s;');
    const r = check(f);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.err).toMatch(/does not type-check: .*typeerr\.ts:9:13: Type 'number' is not assignable to type 'string'/);
  });

  it('a file that throws when imported names its file:line:col', () => {
    const f = join(dir, 'top.ts');
    writeFileSync(f, "throw new Error('at import');\nexport default 1;\n");
    const r = check(f);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.err).toMatch(/at import \(.*top\.ts:1:\d+\)/);
  });

  it('a correct patch file outside the clone loads without a package.json and finds the seed-004 ordering bug', () => {
    const f = writeVariant(
      dir,
      'outside',
      [
        "      const L = k.L;",
        "      const realPrev = yield* fx.load(L.pcpu(k.cpu, 'loaded_mm'));",
        '      if (realPrev === next) return;',
        "      yield* fx.store(L.pcpu(k.cpu, 'loaded_mm'), next);",
        "      yield* fx.writeCr3(L.mm(next).pgd, 0, false, 'load_cr3 first');",
        '      yield* fx.lockBts(L.cpumask(next), k.cpu);',
        '      yield* fx.lockBtr(L.cpumask(realPrev), k.cpu);',
      ].join('\n'),
    );
    const r = check(f);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^VIOLATED no-stale-tlb-use/m);
    expect(r.code).toBe(1);
  });
});
