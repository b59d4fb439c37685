/**
 * Counterexamples are permanent regression tests. Every file of the listed corpus
 * (`properties/corpus.ts`) must still violate its invariant on its own variant, with the same
 * trace digest, and pass on the fixed variant it names where the tape still fits. The folder
 * must hold exactly the listed files. Each bug variant's fresh counterexample replays
 * to the same violation. The replay round trip always runs (shuttle's broke unnoticed when
 * theirs were switched off).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCounterexample, loadCounterexample, modelOf, recordedTraceDigest, replay, saveCounterexample } from '../src/counterexample/counterexample.ts';
import { replayAligned } from '../src/counterexample/align.ts';
import { prepare } from '../src/explore/engine.ts';
import { VARIANTS, findVariant } from '../src/kernel/index.ts';
import { findScenario } from '../src/scenario/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { CORPUS, CORPUS_DIR as DIR, corpusMismatch } from './corpus.ts';
import { checkVariant, tempDir } from './helpers.ts';

const files = CORPUS;

describe('the corpus is what the list says', () => {
  it('counterexamples/ holds exactly the files properties/corpus.ts lists', () => {
    expect(corpusMismatch(readdirSync(DIR), CORPUS)).toEqual({ unlisted: [], missing: [] });
  });

  it('a stray file and a missing file are each reported (the comparison can fail)', () => {
    const stray = 'my-patch--switch-vs-flush-c2--no-stale-tlb-use.json';
    expect(corpusMismatch([...CORPUS, stray], CORPUS)).toEqual({ unlisted: [stray], missing: [] });
    expect(corpusMismatch(CORPUS.slice(1), CORPUS)).toEqual({ unlisted: [], missing: [CORPUS[0]] });
  });
});

describe('stored counterexamples', () => {
  it('there is one for every bug variant', () => {
    const have = new Set(files.map((f) => loadCounterexample(join(DIR, f)).variant));
    for (const v of VARIANTS.filter((x) => x.kind === 'bug')) expect(have.has(v.id), v.id).toBe(true);
  });

  for (const f of files) {
    it(`${f} still violates its invariant on its variant, with the same digest`, () => {
      const ce = loadCounterexample(join(DIR, f));
      const v = findVariant(ce.variant);
      expect(v).toBeDefined();
      const out = replay(ce, v!, true);
      expect(out.kind).toBe('violated');
      if (out.kind === 'violated') {
        expect(out.violation.invariant).toBe(ce.invariant);
        expect(out.digest).toBe(recordedTraceDigest(ce));
      }
    });
  }
});

describe('fresh counterexamples of the bug variants', () => {
  for (const v of VARIANTS.filter((x) => x.kind === 'bug')) {
    for (const e of v.expect.filter((x) => x.verdict === 'violated' && x.cpus === 2)) {
      it(`${v.id} on ${e.scenario}: found, saved, loaded, replayed to the same violation`, () => {
        // The row's own machine features (e.g. invlpgb) on top of the variant's.
        const features = { ...v.features, ...e.features };
        const r = checkVariant(v, e.scenario, e.cpus, { features });
        expect(r.verdict).toBe('violated');
        const model = prepare({ variant: v, scenario: findScenario(e.scenario)!, params: { cpus: e.cpus }, features, bounds: DEFAULT_BOUNDS });
        const ce = buildCounterexample(model, { violation: r.violation!, tape: r.tape!, widths: r.widths!, strategy: 'dfs', seed: 1 });
        const dir = tempDir();
        const { path } = saveCounterexample(ce, dir);
        const back = loadCounterexample(path);
        const out = replay(back, v, true);
        expect(out.kind === 'violated' && out.violation.invariant).toBe(e.invariant);
        expect(out.kind === 'violated' && out.digest).toBe(recordedTraceDigest(ce));
        expect(back).toEqual(ce);
        expect(back.trace.length).toBeGreaterThan(0);
      });
    }
  }
});

describe('replay fails loudly', () => {
  const src = join(DIR, files[0] ?? 'missing.json');

  it('a tape that no longer fits diverges at a named step', () => {
    const ce = loadCounterexample(src);
    const out = replay({ ...ce, tape: ce.tape.map(() => 9) }, findVariant(ce.variant)!, true);
    expect(out.kind).toBe('diverged');
    if (out.kind === 'diverged') expect(out.at).toBeGreaterThan(0);
  });

  it('a tape with choices left over diverges', () => {
    const ce = loadCounterexample(src);
    const out = replay({ ...ce, tape: [...ce.tape, 0, 0], widths: [...ce.widths, 2, 2] }, findVariant(ce.variant)!, true);
    expect(out.kind).toBe('diverged');
  });

  it('saving never overwrites a different file', () => {
    const dir = tempDir();
    const ce = loadCounterexample(src);
    const target = join(dir, `${ce.variant}--${ce.scenario}-c${ce.params.cpus}--${ce.invariant}.json`);
    writeFileSync(target, 'my notes\n');
    const { path, reused } = saveCounterexample(ce, dir);
    expect(path).not.toBe(target);
    expect(reused).toBe(false);
    expect(readFileSync(target, 'utf8')).toBe('my notes\n');
    expect(saveCounterexample(ce, dir)).toEqual({ path, reused: true });
  });
});

describe('stored counterexamples across variants (aligned replay)', () => {
  for (const f of files) {
    const ce = loadCounterexample(join(DIR, f));
    it(`${f}: aligned replay on its own variant matches every step and reproduces the digest`, () => {
      const out = replayAligned(modelOf(ce, findVariant(ce.variant)!), ce.trace);
      expect(out.kind).toBe('violated');
      expect(out.firstDifference).toBeUndefined();
      if (out.kind === 'violated') expect(out.digest).toBe(recordedTraceDigest(ce));
    });
    if (ce.fixedBy !== undefined) {
      it(`${f} passes on the variant that fixes it (${ce.fixedBy})`, () => {
        const fixed = findVariant(ce.fixedBy!);
        expect(fixed, `fixedBy ${ce.fixedBy} is a built-in variant`).toBeDefined();
        const out = replayAligned(modelOf(ce, fixed!), ce.trace);
        expect(out.kind).toBe('passes');
      });
    }
  }
});
