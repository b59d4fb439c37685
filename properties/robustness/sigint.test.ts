/**
 * Ctrl-C keeps the work: SIGINT ends a long check or gate cleanly, prints what was covered
 * (text and --json), marked interrupted, exit 130, and leaves no half-written file.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interrupted, removeDir, scratch } from './files.ts';

const dir = scratch();
afterAll(() => removeDir(dir));
// A search far longer than the test: 6.18 on the scaled SPIN anchor at 4 CPUs, 2 rounds.
const LONG = ['check', '--variant', 'linux-6.18', '--scenario', 'spin-scaled', '--cpus', '4', '--ops', '2'];

describe('SIGINT during a search', () => {
  it('check: prints INCONCLUSIVE (interrupted) with the coverage, exit 130', async () => {
    const r = await interrupted([...LONG, '--out', join(dir, 'a')], 6000);
    expect(r.code).toBe(130);
    expect(r.out).toMatch(/^INCONCLUSIVE \(interrupted\)/m);
    expect(r.out).toMatch(/search stopped early: interrupted/);
    expect(r.out).toMatch(/\d+ states/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('check --json: one object marked interrupted, with its counts', async () => {
    const r = await interrupted([...LONG, '--json', '--out', join(dir, 'b')], 6000);
    expect(r.code).toBe(130);
    const j = JSON.parse(r.out) as { verdict: string; interrupted: boolean; states: number };
    expect(j.verdict).toBe('inconclusive');
    expect(j.interrupted).toBe(true);
    expect(j.states).toBeGreaterThan(0);
  });

  it('gate: reports the rows that ran, marks the stopped one, exit 130, nothing half-written', async () => {
    const out = join(dir, 'g');
    // A manifest whose first row takes a minute or more (6.18 concurrent-flushes at 3 CPUs,
    // about 876,000 states), so the signal surely arrives while a row runs; the built-in
    // manifest can finish in under the wait on an idle machine.
    const manifest = join(dir, 'long.json');
    const row = {
      variant: 'linux-6.18',
      scenario: 'concurrent-flushes',
      cpus: 3,
      features: { pcid: true, invpcid: false, pge: true, pti: false },
      bounds: { walks: null, sbDepth: 2, evictions: 0, maxSteps: 400, preemptions: null },
      expected: 'holds',
      costStates: 900000,
    };
    const quick = { ...row, scenario: 'switch-vs-flush', cpus: 2, costStates: 1 };
    writeFileSync(manifest, JSON.stringify({ schema: 'tlbcheck-gate-manifest/1', rows: [row, quick] }));
    const r = await interrupted(['gate', '--manifest', manifest, '--out', out], 6000);
    expect(r.code).toBe(130);
    expect(r.out).toMatch(/^INTERRUPTED: \d+ of \d+ rows ran/m);
    let files: string[] = [];
    try {
      files = readdirSync(out);
    } catch {
      files = [];
    }
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
