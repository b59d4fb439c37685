/**
 * fast-check over generated scenarios: from a random start and no hand-written scenario,
 * `fuzz` finds the missing-smp_mb bug and shrinks it to a scenario that is minimal (no
 * scenario with one CPU or one operation fewer violates at all, by exhaustive search) and to
 * an execution within one step of the shortest; the saved file names its generated scenario
 * and replays. Correct kernels survive the same property. Seeds are in the titles.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCounterexample, modelOf, recordedTraceDigest, replay } from '../src/counterexample/counterexample.ts';
import { replayAligned } from '../src/counterexample/align.ts';
import { smallerScenarios } from '../src/counterexample/minimize.ts';
import { shortestViolation } from '../src/counterexample/shortest.ts';
import { specArb } from '../src/fuzz/arbitrary.ts';
import { fuzz } from '../src/fuzz/fuzz.ts';
import { findVariant } from '../src/kernel/index.ts';
import { generatedSpecSchema, normalizeSpec, opCount } from '../src/scenario/generated.ts';
import { cli, tempDir } from './helpers.ts';

const noMb = findVariant('linux-4.13-flush-no-mb')!;

describe('fuzz (fast-check over generated scenarios)', () => {
  it('finds linux-4.13-flush-no-mb from seed 1 and shrinks it to a minimal scenario and execution', () => {
    const r = fuzz(noMb, { seed: 1, runs: 1000 });
    expect(r.verdict).toBe('violated');
    if (r.verdict !== 'violated') return;
    const m = r.minimized;
    const inv = m.violation.invariant;
    expect(m.after.cpus).toBe(2);
    // Minimal scenario: nothing one CPU or one operation smaller violates the invariant at all.
    for (const sm of smallerScenarios(m.subject)) {
      expect(shortestViolation(sm.subject.model, inv, { maxStates: 100_000 }), JSON.stringify(sm.subject.generated)).toBeUndefined();
    }
    // Minimal execution: within one step of the shortest on that scenario.
    const s = shortestViolation(m.subject.model, inv)!;
    expect(m.after.steps).toBeLessThanOrEqual(s.steps + 1);
    expect(r.path).toMatch(/^\d+(:\d+)*$/);
  });

  it('replays the failure from its seed and path alone', () => {
    const a = fuzz(noMb, { seed: 1, runs: 1000 });
    expect(a.verdict).toBe('violated');
    if (a.verdict !== 'violated') return;
    const b = fuzz(noMb, { seed: 1, runs: 1000, path: a.path });
    expect(b.verdict === 'violated' && b.shrunk).toEqual(a.shrunk);
  });

  for (const id of ['linux-4.12', 'linux-4.13']) {
    it(`${id} survives 300 generated scenarios (seed 7)`, () => {
      expect(fuzz(findVariant(id)!, { seed: 7, runs: 300 }).verdict).toBe('no-violation');
    });
  }

  it('tlbcheck fuzz saves a counterexample that names its generated scenario, replays, and passes on the fix', async () => {
    const dir = tempDir();
    const r = await cli('fuzz', '--variant', 'linux-4.13-flush-no-mb', '--seed', '1', '--out', dir, '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as { seed: number; path: string; counterexample: string; minimized: { after: { cpus: number } } };
    expect(j.seed).toBe(1);
    expect(j.path.length).toBeGreaterThan(0);
    const ce = loadCounterexample(j.counterexample);
    expect(ce.scenario).toBe('generated');
    expect(ce.generated).toBeDefined();
    expect(JSON.parse(readFileSync(j.counterexample, 'utf8')).schema).toBe('tlbcheck-counterexample/5');
    const own = replay(ce, noMb, true);
    expect(own.kind === 'violated' && own.digest).toBe(recordedTraceDigest(ce));
    expect(replayAligned(modelOf(ce, findVariant(ce.fixedBy!)!), ce.trace).kind).toBe('passes');
    const text = await cli('fuzz', '--variant', 'linux-4.13-flush-no-mb', '--seed', '1', '--out', dir);
    expect(text.out).toMatch(/seed 1, path "[\d:]+"/);
  });

  it('generated specs are well-formed data: normalizing is idempotent and the schema accepts them (seed 11)', () => {
    fc.assert(
      fc.property(specArb(noMb.routines), (raw) => {
        const s = normalizeSpec(raw, noMb.routines);
        expect(normalizeSpec(s, noMb.routines)).toEqual(s);
        expect(generatedSpecSchema.safeParse(s).success).toBe(true);
        expect(opCount(s)).toBeLessThanOrEqual(opCount(raw));
      }),
      { seed: 11, numRuns: 200 },
    );
  });
});
