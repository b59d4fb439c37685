/**
 * The PCID generations (4.14, 4.20, 6.18) through the CLI: each bug variant is violated on its
 * scenario, exits 1 and leaves a counterexample that replays to the same violation; and the
 * scenario parameter space (`--mms`, `--ops`) is documented by `list` and validated by `check`.
 * Verdicts and pinned state counts of every expectation row are in variants.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { VARIANTS } from '../src/kernel/index.ts';
import { cli, tempDir } from './helpers.ts';

const PCID_GENERATIONS = new Set(['linux-4.14', 'linux-4.20', 'linux-6.x']);
const oneLine = (s: string) => s.trim().split('\n').length === 1 && !/\n\s+at /.test(s);

describe('PCID-generation bug variants through the CLI', () => {
  const bugs = VARIANTS.filter((v) => v.kind === 'bug' && PCID_GENERATIONS.has(v.generation));
  it('there is at least one per hazard scenario', () => {
    const scenarios = new Set(bugs.flatMap((b) => b.expect.map((e) => e.scenario)));
    for (const s of ['asid-reuse', 'concurrent-flushes', 'lazy-free-pgtables', 'lazy-flush', 'switch-vs-flush']) {
      expect(scenarios.has(s), s).toBe(true);
    }
  });
  for (const b of bugs) {
    const e = b.expect.find((x) => x.verdict === 'violated' && x.cpus === 2)!;
    it(`${b.id} is violated on ${e.scenario} (exit 1, ${e.invariant}) and its counterexample replays`, async () => {
      const out = tempDir();
      // The row's own machine features (e.g. invlpgb), as --features.
      const feats = Object.entries(e.features ?? {}).map(([n, on]) => (on ? n : `-${n}`));
      const r = await cli('check', '--variant', b.id, '--scenario', e.scenario, '--out', out, '--json', ...(feats.length > 0 ? ['--features', feats.join(',')] : []));
      expect(r.code).toBe(1);
      const j = JSON.parse(r.out) as Record<string, unknown>;
      expect(j['invariant']).toBe(e.invariant);
      const rep = await cli('replay', String(j['counterexample']));
      expect(rep.code).toBe(1);
      expect(rep.out).toContain(`still violated: ${e.invariant}`);
    });
  }
});

describe('scenario parameter space', () => {
  it('list shows the mms and ops ranges, in text and JSON', async () => {
    const t = await cli('list');
    expect(t.out).toMatch(/mms 2-4 \(default 3/);
    expect(t.out).toMatch(/ops 1-2 \(default 1/);
    const j = JSON.parse((await cli('list', '--json')).out) as { scenarios: { id: string; mms?: unknown; ops?: unknown }[] };
    expect(j.scenarios.find((s) => s.id === 'asid-reuse')?.mms).toMatchObject({ min: 2, max: 4, default: 3 });
    expect(j.scenarios.find((s) => s.id === 'concurrent-flushes')?.ops).toMatchObject({ min: 1, max: 2, default: 1 });
  });

  it('check refuses an out-of-range value and a parameter the scenario lacks, in one line', async () => {
    for (const args of [
      ['--scenario', 'asid-reuse', '--mms', '5'],
      ['--scenario', 'concurrent-flushes', '--ops', '3'],
      ['--scenario', 'switch-vs-flush', '--mms', '3'],
      ['--scenario', 'lazy-flush', '--ops', '1'],
    ]) {
      const r = await cli('check', '--variant', 'linux-4.14', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(oneLine(r.err), r.err).toBe(true);
    }
  });

  it('asid-reuse holds on linux-4.14 for 2 and 4 mms, and a counterexample keeps its mms', async () => {
    for (const m of ['2', '4']) {
      const r = await cli('check', '--variant', 'linux-4.14', '--scenario', 'asid-reuse', '--mms', m);
      expect(r.code, `mms ${m}`).toBe(0);
    }
    const out = tempDir();
    const r = await cli('check', '--variant', 'linux-4.14-reuse-asid-no-flush', '--scenario', 'asid-reuse', '--mms', '4', '--out', out, '--json');
    expect(r.code).toBe(1);
    const file = String((JSON.parse(r.out) as Record<string, unknown>)['counterexample']);
    const rep = await cli('replay', file, '--json');
    expect(rep.code).toBe(1);
    const { readFileSync } = await import('node:fs');
    expect((JSON.parse(readFileSync(file, 'utf8')) as { params: unknown }).params).toEqual({ cpus: 2, mms: 4 });
  });
});
