/**
 * Rewording the describer (`src/explore/describe.ts`, monkey-patched here so every description
 * of a step, walk, broadcast and IPI delivery reads differently, and every value reads in other
 * words) does not break a stored version-4 counterexample, nor a version-3 one: strict replay
 * compares the digest of the events' data. A version-2 file, whose digest is over the text, is "the model changed"
 * under the same rewording: the test shows the rewording reaches the trace.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CORPUS, corpusPath } from './corpus.ts';

vi.mock('../src/explore/describe.ts', async (importOriginal) => {
  const d = await importOriginal<typeof import('../src/explore/describe.ts')>();
  const say = (s: string) => `[${s.toUpperCase()}]`;
  return {
    ...d,
    describeEffect: (...a: Parameters<typeof d.describeEffect>) => say(d.describeEffect(...a)),
    describeWalk: (...a: Parameters<typeof d.describeWalk>) => say(d.describeWalk(...a)),
    describeBcast: (...a: Parameters<typeof d.describeBcast>) => say(d.describeBcast(...a)),
    describeMove: (...a: Parameters<typeof d.describeMove>) => say(d.describeMove(...a)),
    valueText: (...a: Parameters<typeof d.valueText>) => say(d.valueText(...a)),
  };
});

// The setup file has loaded the engine with the real describer already: load it again, mocked.
type Cx = typeof import('../src/counterexample/counterexample.ts');
let loadCounterexample: Cx['loadCounterexample'];
let recordedTraceDigest: Cx['recordedTraceDigest'];
let replay: Cx['replay'];
let findVariant: typeof import('../src/kernel/index.ts')['findVariant'];
beforeAll(async () => {
  vi.resetModules();
  ({ loadCounterexample, recordedTraceDigest, replay } = await import('../src/counterexample/counterexample.ts'));
  ({ findVariant } = await import('../src/kernel/index.ts'));
});

describe('a reworded describer', () => {
  it('reaches the trace text and the display strings of the data', () => {
    const ce = loadCounterexample(corpusPath(CORPUS[0]!));
    const out = replay(ce, findVariant(ce.variant)!, true);
    expect(out.kind).not.toBe('diverged');
    if (out.kind === 'diverged') return;
    const program = out.trace.filter((e) => e.actor === 'cpu' && e.data?.k !== 'assert');
    expect(program.length).toBeGreaterThan(0);
    for (const e of program) expect(e.text).toMatch(/^\[.*\]$/);
    const recorded = new Set(ce.trace.map((e) => e.text));
    expect(program.some((e) => recorded.has(e.text))).toBe(false);
  });

  for (const name of CORPUS) {
    it(`${name} (v5) still replays strictly to its recorded digest`, () => {
      const ce = loadCounterexample(corpusPath(name));
      expect(ce.schema).toBe('tlbcheck-counterexample/5');
      const out = replay(ce, findVariant(ce.variant)!, true);
      expect(out.kind).toBe('violated');
      if (out.kind === 'violated') {
        expect(out.violation.invariant).toBe(ce.invariant);
        expect(out.digest).toBe(recordedTraceDigest(ce));
      }
    });
  }

  it('a version-3 file (data with location numbers) still replays strictly to its recorded digest', () => {
    const ce = loadCounterexample(join(import.meta.dirname, 'fixtures', 'counterexample-v3.json'));
    expect(ce.schema).toBe('tlbcheck-counterexample/3');
    const out = replay(ce, findVariant(ce.variant)!, true);
    expect(out.kind).toBe('violated');
    if (out.kind === 'violated') expect(out.digest).toBe(recordedTraceDigest(ce));
  });

  it('a version-2 file (digest over its text) no longer matches: the rewording is a change of its trace', () => {
    const ce = loadCounterexample(join(import.meta.dirname, 'fixtures', 'counterexample-v2.json'));
    const out = replay(ce, findVariant(ce.variant)!, true);
    expect(out.kind).toBe('violated');
    if (out.kind === 'violated') expect(out.digest).not.toBe(recordedTraceDigest(ce));
  });
});
