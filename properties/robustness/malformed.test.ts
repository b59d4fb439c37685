/**
 * Property (fast-check): malformed input of every kind a user hands tlbcheck (variant files,
 * the effects their routines yield, litmus files, counterexamples) ends in exit 2 with one
 * line and no stack trace, or is valid and checked; and no file outside `--out` changes.
 * Seeds are fixed and printed in the titles; a failure prints fast-check's seed and path.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors.ts';
import { search } from '../../src/explore/check.ts';
import { prepare } from '../../src/explore/engine.ts';
import { derive, getVariant } from '../../src/index.ts';
import type { Effect } from '../../src/machine/effects.ts';
import { effectProblem } from '../../src/machine/validate.ts';
import { DEFAULT_BOUNDS } from '../../src/machine/types.ts';
import { findScenario } from '../../src/scenario/index.ts';
import { cli } from '../helpers.ts';
import { ROOT, oneLine, removeDir, scratch, tlbcheck, variantSource } from './files.ts';

const dir = scratch();
afterAll(() => removeDir(dir));

/** Digest of every file under `d` (names and contents), to show nothing outside --out changed. */
function treeDigest(d: string, skip: string): string {
  const h = createHash('sha256');
  for (const f of (readdirSync(d, { recursive: true }) as string[]).map(String).sort()) {
    if (f.startsWith(skip)) continue;
    h.update(f);
    try {
      h.update(readFileSync(join(d, f)));
    } catch {
      // a directory
    }
  }
  return h.digest('hex');
}
const corpus = (): string => treeDigest(join(ROOT, 'counterexamples'), '\0');

/** A string with some edits: characters deleted, replaced or inserted at random places. */
const mutated = (s: string): fc.Arbitrary<string> =>
  fc
    .array(fc.tuple(fc.nat(s.length), fc.constantFrom('del', 'junk', 'dup'), fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 3 })
    .map((edits) => {
      let t = s;
      for (const [at, op, junk] of edits) {
        const i = Math.min(at, t.length);
        t = op === 'del' ? t.slice(0, i) + t.slice(i + 1 + (junk.length % 3)) : op === 'junk' ? t.slice(0, i) + junk + t.slice(i) : t.slice(0, i) + t.slice(i, i + 8) + t.slice(i);
      }
      return t;
    });

const loadedMm = "      const v = yield* fx.load(k.L.pcpu(k.cpu, 'loaded_mm'));\n      void v;";

describe('malformed effects (seed 21)', () => {
  const field = fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double(), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(undefined), fc.constant(null));
  const effect = fc.record({
    k: fc.constantFrom('load', 'store', 'rmw', 'cr3', 'invlpg', 'invpcid', 'ipi', 'access', 'free-page', 'flush-begin', 'flush-end', 'assert', 'enter', 'frobnicate', 'wait'),
    loc: field,
    val: field,
    op: fc.constantFrom('bts', 'xadd', 'nope'),
    a: field,
    root: field,
    pcid: field,
    noflush: field,
    va: field,
    type: field,
    target: field,
    write: field,
    pfn: field,
    mm: field,
    start: field,
    end: field,
    kernel: field,
    token: field,
    ok: field,
    what: field,
    kind: field,
    fn: field,
  });
  const scenario = findScenario('switch-vs-flush')!;
  it('each one is a model error naming it, or is valid and runs; never an internal error', () => {
    fc.assert(
      fc.property(effect, (raw) => {
        const e = raw as unknown as Effect;
        const base = getVariant('linux-4.13');
        const v = derive(base, {
          id: 'fuzzed-effect',
          title: 'yields one generated effect',
          routines: {
            context_switch: function* () {
              yield e;
            },
          },
        });
        const model = prepare({ variant: v, scenario, params: { cpus: 2 }, features: base.features, bounds: { ...DEFAULT_BOUNDS, maxSteps: 60 } });
        const problem = effectProblem(e, { words: model.layout.base + model.layout.count, pages: model.world.pages.length, cpus: 2, mms: model.layout.mms.length });
        try {
          search(model, { strategy: 'random', seed: 1, maxExecutions: 3 });
        } catch (err) {
          expect(err).toBeInstanceOf(ModelError);
          expect((err as Error).message.split('\n')).toHaveLength(1);
          if (problem !== undefined) expect((err as Error).message).toContain(problem);
          return;
        }
        expect(problem).toBeUndefined();
      }),
      { seed: 21, numRuns: 300 },
    );
  });
});

describe('malformed variant files (seed 5)', () => {
  const valid = variantSource('mutant', loadedMm);
  it('exit 2 with one line and no stack trace, or a verdict; nothing outside --out changes', () => {
    const before = corpus();
    let n = 0;
    fc.assert(
      fc.property(mutated(valid), (text) => {
        const f = join(dir, `v${n++}.ts`);
        writeFileSync(f, text);
        const mine = treeDigest(dir, 'out');
        const r = tlbcheck(['check', '--variant', f, '--scenario', 'switch-vs-flush', '--out', join(dir, 'out')], { cwd: dir });
        if (r.code === 0 || r.code === 1) expect(r.out).toMatch(/^(HOLDS|VIOLATED)/m);
        else {
          expect(r.code).toBe(2);
          expect(oneLine(r.err)).toBe(true);
        }
        expect(treeDigest(dir, 'out')).toBe(mine);
      }),
      { seed: 5, numRuns: 4 },
    );
    expect(corpus()).toBe(before);
  });
});

describe('malformed litmus files (seed 9)', () => {
  const valid = readFileSync(join(ROOT, 'properties', 'litmus', 'MP.litmus'), 'utf8');
  it('exit 2 with one line, or a verdict', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutated(valid), async (text) => {
        const f = join(dir, `t${n++}.litmus`);
        writeFileSync(f, text);
        const r = await cli('litmus', f);
        if (r.code === 0) expect(r.out.length).toBeGreaterThan(0);
        else {
          expect(r.code).toBe(2);
          expect(oneLine(r.err)).toBe(true);
        }
      }),
      { seed: 9, numRuns: 150 },
    );
  });
});

describe('malformed counterexamples (seed 13)', () => {
  const file = join(ROOT, 'counterexamples', 'linux-4.13-flush-no-mb--switch-vs-flush-c2--no-stale-tlb-use.json');
  const valid = readFileSync(file, 'utf8');
  /** An edit of whitespace only (or none) leaves the same JSON: the same, valid file (its digest is over the canonical JSON). */
  const sameJson = (text: string): boolean => {
    try {
      return JSON.stringify(JSON.parse(text)) === JSON.stringify(JSON.parse(valid));
    } catch {
      return false;
    }
  };
  it('replay: exit 2 (or 3 for a tape that no longer fits) with one line; nothing outside --out changes', () => {
    const before = corpus();
    let n = 0;
    fc.assert(
      fc.property(mutated(valid), (text) => {
        fc.pre(!sameJson(text));
        const f = join(dir, `c${n++}.json`);
        writeFileSync(f, text);
        const mine = treeDigest(dir, 'out');
        const r = tlbcheck(['replay', f]);
        expect([2, 3]).toContain(r.code);
        expect(oneLine(r.err)).toBe(true);
        expect(treeDigest(dir, 'out')).toBe(mine);
      }),
      { seed: 13, numRuns: 5 },
    );
    expect(corpus()).toBe(before);
  });
});
