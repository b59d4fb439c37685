/**
 * Counterexamples are data, not code. `replay` and `minimize` never import a file named inside
 * a counterexample (`variantPath`, or a path smuggled into `variant`): only `--variant PATH`
 * given by the user runs code. The file digest (schemas 2 to 4) covers every field, so an edit
 * of anything replay reads or shows is reported as tampered (exit 2, one line); a faithful file
 * whose replay no longer matches is "the model changed" (exit 3). In a version-4 file that match
 * is judged on the events' data, not their wording; a version-3 file (its data with location
 * numbers) is judged on its data read as version 4 (the numbers dropped). Version-1 and 2 files still load and replay by their text
 * digest, and an edit of a version-1 recorded trace is still caught.
 *
 * Each refusal is shown against a variant file that leaves a marker when it is imported: the
 * old replay imported `variantPath`, so these tests fail on it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { eventsDigestV4 } from '../src/counterexample/digest.ts';
import { describe, expect, it } from 'vitest';
import { loadCounterexample, recordedTraceDigest, sealCounterexample } from '../src/counterexample/counterexample.ts';
import type { CounterexampleFile } from '../src/counterexample/schema.ts';
import { fileDigest } from '../src/counterexample/seal.ts';
import { corpusPath } from './corpus.ts';
import { cli, tempDir } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const PATCH = join(ROOT, 'examples', 'my-patch.c');
const STORED = corpusPath('linux-4.13-flush-no-mb--switch-vs-flush-c2--no-stale-tlb-use.json');
const V1 = join(import.meta.dirname, 'fixtures', 'counterexample-v1.json');
/** The same counterexample as saved by schema 2 (before event data was stored). */
const V2 = join(import.meta.dirname, 'fixtures', 'counterexample-v2.json');
/** The same counterexample as saved by schema 3 (event data with layout location numbers). */
const V3 = join(import.meta.dirname, 'fixtures', 'counterexample-v3.json');
const oneLine = (s: string) => s.trim().split('\n').length === 1 && !/\n\s+at /.test(s) && !/\bat .*:\d+:\d+/.test(s);
const stored = (): CounterexampleFile => JSON.parse(readFileSync(STORED, 'utf8')) as CounterexampleFile;
const write = (dir: string, name: string, json: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(json, null, 1));
  return p;
};

/** A "variant file" whose only effect, if anything imports it, is to leave a marker file. */
function trap(dir: string): { file: string; marker: string } {
  const marker = join(dir, 'IMPORTED');
  const file = join(dir, 'evil.ts');
  writeFileSync(file, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'imported');\nexport default {};\n`);
  return { file, marker };
}

describe('replay never runs code named by a counterexample', () => {
  it('a counterexample naming a variant file is refused without --variant: one line naming the file, exit 2, nothing imported', async () => {
    const d = tempDir();
    const { file, marker } = trap(d);
    const ce = write(d, 'ce.json', sealCounterexample({ ...stored(), variant: 'my-patch', variantPath: 'evil.ts' }));
    for (const cmd of ['replay', 'minimize'] as const) {
      const r = await cli(cmd, ce);
      expect(r.code, cmd).toBe(2);
      expect(oneLine(r.err), r.err).toBe(true);
      expect(r.err).toContain(relative(process.cwd(), file));
      expect(r.err).toMatch(/--variant/);
      expect(existsSync(marker), `${cmd} imported the file named in the counterexample`).toBe(false);
    }
  });

  it('a path in the variant field is invalid data, never imported', async () => {
    const d = tempDir();
    const { marker } = trap(d);
    const ce = write(d, 'ce.json', sealCounterexample({ ...stored(), variant: './evil.ts' }));
    for (const cmd of ['replay', 'minimize'] as const) {
      const r = await cli(cmd, ce);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/invalid counterexample at variant/);
      expect(existsSync(marker)).toBe(false);
    }
  });

  it('an unknown variant id without --variant is one line, exit 2', async () => {
    const d = tempDir();
    const r = await cli('replay', write(d, 'ce.json', sealCounterexample({ ...stored(), variant: 'linux-9.99' })));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/'linux-9.99', which is not built in; pass --variant PATH/);
    expect(oneLine(r.err)).toBe(true);
  });

  it('the user passes the file: check with a variant file, then replay and minimize it with --variant PATH', async () => {
    const out = tempDir();
    const r = await cli('check', '--variant', PATCH, '--scenario', 'switch-vs-flush', '--out', out, '--json');
    expect(r.code).toBe(1);
    const ce = String((JSON.parse(r.out) as { counterexample: string }).counterexample);
    const refused = await cli('replay', ce);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`--variant ${relative(process.cwd(), PATCH)}`);
    const rep = await cli('replay', ce, '--variant', PATCH);
    expect(rep.code).toBe(1);
    expect(rep.out).toMatch(/^still violated: no-stale-tlb-use$/m);
    const m = await cli('minimize', ce, '--variant', PATCH, '--out', tempDir(), '--json');
    expect(m.code).toBe(0);
    const wrong = await cli('minimize', ce, '--variant', 'linux-4.13');
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/records variant 'my-patch'/);
  });
});

describe('tamper detection: the digest covers everything replay reads and shows', () => {
  const edits: [string, (ce: CounterexampleFile) => CounterexampleFile][] = [
    ['a trace text', (ce) => ({ ...ce, trace: ce.trace.map((e, i) => (i === 2 ? { ...e, text: 'load mmA.cpumask = {1}' } : e)) })],
    ['a trace step number', (ce) => ({ ...ce, trace: ce.trace.map((e, i) => (i === 2 ? { ...e, step: e.step + 1 } : e)) })],
    ['the message', (ce) => ({ ...ce, message: `${ce.message}!` })],
    ['the invariant', (ce) => ({ ...ce, invariant: 'no-walk-through-freed-table' })],
    ['the tape', (ce) => ({ ...ce, tape: [1, ...ce.tape.slice(1)] })],
    ['the widths', (ce) => ({ ...ce, widths: [9, ...ce.widths.slice(1)] })],
    ['the params', (ce) => ({ ...ce, params: { cpus: 3 } })],
    ['the features', (ce) => ({ ...ce, features: { ...ce.features, pcid: true } })],
    ['the bounds', (ce) => ({ ...ce, bounds: { ...ce.bounds, sbDepth: 1 } })],
    ['the variant', (ce) => ({ ...ce, variant: 'linux-4.13' })],
    ['the fixing variant', (ce) => ({ ...ce, fixedBy: 'linux-4.12' })],
    ['the stats', (ce) => ({ ...ce, stats: { ...ce.stats!, steps: 1 } })],
    ['an added field', (ce) => ({ ...ce, note: 'hello' }) as CounterexampleFile],
  ];
  for (const [what, edit] of edits) {
    it(`an edit of ${what} is tampered: one line, exit 2`, async () => {
      const d = tempDir();
      const r = await cli('replay', write(d, 'ce.json', edit(stored())));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/ce\.json: tampered: its contents do not match its digest/);
      expect(oneLine(r.err)).toBe(true);
      expect(r.out).toBe('');
    });
  }

  it('an edit of a value in the trace data, re-sealed, is a consistent file: replay judges the model (a trace it no longer makes: exit 3)', async () => {
    const d = tempDir();
    const ce = stored();
    const i = ce.trace.findIndex((e) => e.data?.k === 'load');
    expect(i).toBeGreaterThanOrEqual(0);
    const edited = { ...ce, trace: ce.trace.map((e, j) => (j === i ? { ...e, data: { ...e.data!, val: { v: 12345 } } } : e)) };
    const r = await cli('replay', write(d, 'ce.json', sealCounterexample(edited)));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/trace digest mismatch .*the model changed since it was saved/);
  });

  it('a reworded trace text, re-sealed, still replays strictly: the trace digest is over data, not wording (exit 1)', async () => {
    const d = tempDir();
    const r = await cli('replay', write(d, 'ce.json', sealCounterexample(edits[0]![1](stored()))));
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^still violated: no-stale-tlb-use$/m);
  });

  it('an untouched stored file still replays, and the key order and whitespace of the file do not matter', async () => {
    const d = tempDir();
    const ce = stored();
    const reordered = Object.fromEntries(Object.entries(ce).reverse());
    writeFileSync(join(d, 'ce.json'), JSON.stringify(reordered));
    const r = await cli('replay', join(d, 'ce.json'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^still violated: no-stale-tlb-use$/m);
  });

  it('any single changed value anywhere in the file is refused with one line and exit 2 (fast-check, seed 12)', async () => {
    const base = stored() as unknown as Record<string, unknown>;
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, at: (string | number)[]) => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
      else if (at[0] !== 'digest' && at[0] !== 'schema') paths.push(at);
    };
    walk(base, []);
    const d = tempDir();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.oneof(fc.integer({ min: -3, max: 50 }), fc.string({ maxLength: 4 }), fc.boolean(), fc.constant(null)), async (path, value) => {
        const copy = structuredClone(base);
        let o = copy as Record<string | number, unknown>;
        for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
        const last = path[path.length - 1]!;
        fc.pre(JSON.stringify(o[last]) !== JSON.stringify(value));
        o[last] = value;
        const r = await cli('replay', write(d, 'ce.json', copy));
        expect(r.code).toBe(2);
        expect(oneLine(r.err)).toBe(true);
        expect(r.err).toMatch(/tampered|invalid counterexample/);
      }),
      { seed: 12, numRuns: 60 },
    );
  });
});

describe('version-1 files', () => {
  it('still load and replay', async () => {
    expect(loadCounterexample(V1).schema).toBe('tlbcheck-counterexample/1');
    const r = await cli('replay', V1);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^still violated: no-stale-tlb-use$/m);
  });

  it('an edited recorded trace is tampered (its trace digest no longer matches), exit 2', async () => {
    const d = tempDir();
    const ce = JSON.parse(readFileSync(V1, 'utf8')) as CounterexampleFile;
    const edited = { ...ce, trace: ce.trace.map((e, i) => (i === 0 ? { ...e, text: 'store pte := pfn 9' } : e)) };
    const r = await cli('replay', write(d, 'v1.json', edited));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/v1\.json: tampered: its recorded trace does not match its digest/);
    expect(oneLine(r.err)).toBe(true);
  });

  it('an unknown future version is refused by name', async () => {
    const d = tempDir();
    const r = await cli('replay', write(d, 'v9.json', { ...stored(), schema: 'tlbcheck-counterexample/9' }));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown schema "tlbcheck-counterexample\/9"/);
  });
});

describe('version-2 files (trace text only, no event data)', () => {
  it('still load and replay strictly, judged by their text digest', async () => {
    expect(loadCounterexample(V2).schema).toBe('tlbcheck-counterexample/2');
    expect(loadCounterexample(V2).trace.every((e) => e.data === undefined)).toBe(true);
    const r = await cli('replay', V2);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^still violated: no-stale-tlb-use$/m);
  });

  it('a reworded text, re-sealed, stays version 2 and is "the model changed" (exit 3): its digest covers the text', async () => {
    const d = tempDir();
    const ce = JSON.parse(readFileSync(V2, 'utf8')) as CounterexampleFile;
    const sealed = sealCounterexample({ ...ce, trace: ce.trace.map((e, i) => (i === 2 ? { ...e, text: `${e.text} ` } : e)) });
    expect(sealed.schema).toBe('tlbcheck-counterexample/2');
    const r = await cli('replay', write(d, 'v2.json', sealed));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/trace digest mismatch/);
  });

  it('event data in a version-2 file, a version-3 to 5 event without it, version-5 data with a location number, or a version-5 call stored as its text, is invalid (one line, exit 2)', async () => {
    const d = tempDir();
    const v2 = JSON.parse(readFileSync(V2, 'utf8')) as CounterexampleFile;
    const v3 = JSON.parse(readFileSync(V3, 'utf8')) as CounterexampleFile;
    const v4 = stored();
    expect(v4.schema).toBe('tlbcheck-counterexample/5');
    const withLoc = v4.trace.findIndex((e) => e.data !== undefined && 'at' in e.data);
    expect(withLoc).toBeGreaterThanOrEqual(0);
    const mixed: [CounterexampleFile, number][] = [
      [{ ...v2, trace: v2.trace.map((e, i) => (i === 0 ? { ...e, data: v4.trace[0]!.data } : e)) }, 0],
      [{ ...v3, trace: v3.trace.map((e, i) => (i === 0 ? { ...e, data: undefined } : e)) }, 0],
      [{ ...v4, trace: v4.trace.map((e, i) => (i === 0 ? { ...e, data: undefined } : e)) }, 0],
      // A version-3 event's data (its location's number kept) in a version-5 file.
      [{ ...v4, trace: v4.trace.map((e, i) => (i === withLoc ? { ...e, data: v3.trace[i]!.data } : e)) }, withLoc],
      // A version-4 call (its text, no function and argument) in a version-5 file.
      [{ ...v4, trace: v4.trace.map((e, i) => (i === 0 ? { ...e, data: { k: 'ipi-send', sb: 0, target: 1, fn: 'flush_tlb_func(mmA, all)' } } : e)) }, 0],
    ];
    expect(JSON.stringify(v3.trace[withLoc]!.data)).toMatch(/"loc":\d+/);
    for (const [ce, at] of mixed) {
      const r = await cli('replay', write(d, 'mixed.json', { ...ce, digest: fileDigest(ce as unknown as Record<string, unknown>) }));
      expect(r.code).toBe(2);
      expect(oneLine(r.err)).toBe(true);
      expect(r.err).toMatch(new RegExp(`invalid counterexample at trace\\.${at}\\.data`));
    }
  });
});

describe('version-3 files (event data with location numbers)', () => {
  it('still load and replay strictly, judged by the digest of their data read as version 4', async () => {
    const ce = loadCounterexample(V3);
    expect(ce.schema).toBe('tlbcheck-counterexample/3');
    expect(JSON.stringify(ce.trace.map((e) => e.data))).toMatch(/"loc":\d+/);
    // The same execution stored as version 5: equal under the version-4 rule the old file is judged by.
    expect(recordedTraceDigest(ce)).toBe(eventsDigestV4(loadCounterexample(STORED).trace));
    const r = await cli('replay', V3);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^still violated: no-stale-tlb-use$/m);
  });

  it('re-sealed, a file with every location number changed still replays (the numbers are layout), one with a location changed is "the model changed" (exit 3)', async () => {
    const d = tempDir();
    const ce = JSON.parse(readFileSync(V3, 'utf8')) as CounterexampleFile;
    type At = { loc: number; is: { kind: string } };
    const edit = (f: (at: At) => At) => ce.trace.map((e) => (e.data !== undefined && 'at' in e.data ? { ...e, data: { ...e.data, at: f(e.data.at as At) } } : e));
    const renumbered = sealCounterexample({ ...ce, trace: edit((at) => ({ ...at, loc: at.loc + 1000 })) });
    expect(renumbered.schema).toBe('tlbcheck-counterexample/3');
    const ok = await cli('replay', write(d, 'renumbered.json', renumbered));
    expect(ok.err).toBe('');
    expect(ok.code).toBe(1);
    const moved = sealCounterexample({ ...ce, trace: edit((at) => (at.is.kind === 'table' ? at : { ...at, is: { kind: 'var', name: 'elsewhere' } })) });
    const r = await cli('replay', write(d, 'moved.json', moved));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/trace digest mismatch/);
  });
});
