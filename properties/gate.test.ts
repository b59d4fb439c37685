/**
 * The gate as a product: shards partition the manifest, worker threads give the same verdicts
 * and counts as one thread, a user's patch that breaks an ordering fails the gate and points to
 * a counterexample that replays, manifest drift is reported, and the JSON and JUnit reports
 * carry one entry per row. The CLI runs use small manifests (the cpus-2 rows) to stay fast;
 * the full manifest is checked row by row in variants.test.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRows, planBuiltin, runRow } from '../src/gate/gate.ts';
import { estimateTree } from '../src/explore/estimate.ts';
import { xmlEscape } from '../src/gate/junit.ts';
import { prepare } from '../src/explore/engine.ts';
import { findScenario } from '../src/scenario/index.ts';
import { DEFAULT_MANIFEST, formatManifest, loadManifest, rowKey, type ManifestRow } from '../src/gate/manifest.ts';
import { shardRows } from '../src/gate/shard.ts';
import { VARIANTS } from '../src/kernel/index.ts';
import { main } from '../src/cli/main.ts';
import { cli, tempDir } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const full = loadManifest(DEFAULT_MANIFEST);

interface JsonRow {
  variant: string;
  features?: unknown;
  scenario: string;
  cpus: number;
  expected: string;
  actual: string;
  ok: boolean;
  executions: number | null;
  states: number | null;
  elapsedMs: number | null;
  problems: string[];
  counterexample: string | null;
  replay: string | null;
}
interface Report {
  rows: JsonRow[];
  summary: { rows: number; passed: number; failed: number; manifestRows: number; shard: string | null };
}

/** A manifest file with only the given rows. */
function manifestWith(rows: readonly ManifestRow[]): string {
  const path = join(tempDir(), 'manifest.json');
  writeFileSync(path, formatManifest({ rows }));
  return path;
}

/** The cpus-2 rows of linux-4.12, run through a user-variant copy of it (fixtures/unchanged-4.12.c). */
const small = full.rows.filter((r) => r.cpus === 2 && r.variant === 'linux-4.12');
const COPY = join(ROOT, 'properties', 'fixtures', 'unchanged-4.12.c');
const MY_PATCH = join(ROOT, 'examples', 'my-patch.c');
/** All rows of linux-4.12 (its cpus-3 row takes a second or two). */
const rows412 = full.rows.filter((r) => r.variant === 'linux-4.12');
/** small, plus the cpus-2 rows of linux-4.13 that examples/my-patch.c (based on it) runs over. */
const smallMixed = [...small, ...full.rows.filter((r) => r.cpus === 2 && r.variant === 'linux-4.13')];
const strip = (r: JsonRow) => [r.variant, r.scenario, r.cpus, r.expected, r.actual, r.ok, r.executions, r.states];

describe('--shard I/N', () => {
  it('for N = 1..5 the shards of the built-in manifest cover every row exactly once, deterministically', () => {
    const plan = planBuiltin(full, VARIANTS);
    const keys = plan.map(rowKey);
    for (let n = 1; n <= 5; n++) {
      const got = [];
      for (let i = 1; i <= n; i++) {
        const a = shardRows(plan, { index: i, count: n }).map(rowKey);
        expect(shardRows(plan, { index: i, count: n }).map(rowKey)).toEqual(a);
        got.push(...a);
      }
      expect([...got].sort()).toEqual([...keys].sort());
    }
  });

  it('the CLI halves 1/2 and 2/2 run disjoint rows that together are the manifest', async () => {
    const m = manifestWith(small);
    const a = JSON.parse((await cli('gate', '--manifest', m, '--variant', COPY, '--shard', '1/2', '--json')).out) as Report;
    const b = JSON.parse((await cli('gate', '--manifest', m, '--variant', COPY, '--shard', '2/2', '--json')).out) as Report;
    const id = (r: JsonRow) => `${r.scenario} ${r.cpus}`;
    const all = small.map((r) => `${r.scenario} ${r.cpus}`);
    expect(a.rows.length).toBeGreaterThan(0);
    expect(b.rows.length).toBeGreaterThan(0);
    expect([...a.rows.map(id), ...b.rows.map(id)].sort()).toEqual([...all].sort());
    expect([a.summary.shard, b.summary.shard]).toEqual(['1/2', '2/2']);
  });

  it('a malformed shard is bad input (exit 2, one line)', async () => {
    for (const s of ['0/2', '3/2', 'x', '1/0']) {
      const r = await cli('gate', '--shard', s);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('--workers N', () => {
  it('two worker threads give the same verdicts and counts as one thread', async () => {
    const m = manifestWith(smallMixed);
    const one = await cli('gate', '--manifest', m, '--workers', '1', '--json', '--variant', COPY, MY_PATCH, '--out', tempDir());
    const two = await cli('gate', '--manifest', m, '--workers', '2', '--json', '--variant', COPY, MY_PATCH, '--out', tempDir());
    expect([one.code, two.code, one.err, two.err]).toEqual([1, 1, '', '']); // my-patch breaks switch-vs-flush
    const a = JSON.parse(one.out) as Report;
    const b = JSON.parse(two.out) as Report;
    expect(a.rows.length).toBe(smallMixed.length);
    expect(b.rows.map(strip)).toEqual(a.rows.map(strip));
    expect(a.rows.filter((x) => !x.ok).map((x) => x.variant)).toEqual(['my-patch', 'my-patch', 'my-patch']);
    for (const r of a.rows.filter((x) => x.variant !== 'my-patch')) {
      // 4.12 has rows of one scenario and CPU count on several machines (@pge): match the features too.
      const pinned = small.find((s) => s.scenario === r.scenario && s.cpus === r.cpus && JSON.stringify(s.features) === JSON.stringify(r.features));
      expect([r.states, r.executions]).toEqual([pinned?.states, pinned?.executions]);
    }
  });
});

describe('a user variant that breaks an ordering', () => {
  it('tlbcheck gate --variant ./examples/my-patch.c exits 1 and points to counterexamples that replay', async () => {
    const out = tempDir();
    const r = await cli('gate', '--variant', MY_PATCH, '--out', out, '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as Report;
    // every row its base (linux-4.13) holds on, each expected to hold
    expect(j.rows.length).toBe(full.rows.filter((x) => x.variant === 'linux-4.13' && x.expected === 'holds').length);
    expect(j.rows.every((x) => x.variant === 'my-patch' && x.expected === 'holds')).toBe(true);
    const bad = j.rows.find((x) => x.scenario === 'switch-vs-flush' && x.cpus === 2)!;
    expect(bad.ok).toBe(false);
    expect(bad.actual).toBe('violates no-stale-tlb-use');
    expect(bad.counterexample?.startsWith(out)).toBe(true);
    expect(existsSync(bad.counterexample!)).toBe(true);
    // The printed command names the variant file again: replay never imports a path from the file.
    expect(bad.replay).toBe(`npx tlbcheck replay ${bad.counterexample} --variant ${resolve(MY_PATCH)}`);
    // A counterexample names its variant file but never runs it: the user passes it.
    expect((await cli('replay', bad.counterexample!)).code).toBe(2);
    expect((await cli('replay', bad.counterexample!, '--variant', MY_PATCH)).code).toBe(1);
  });

  it('the text output names the counterexample and the replay command', async () => {
    const m = manifestWith(full.rows.filter((x) => x.variant === 'linux-4.13' && x.scenario === 'switch-vs-flush' && x.cpus === 2));
    const r = await cli('gate', '--manifest', m, '--variant', MY_PATCH, '--out', tempDir());
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/MISMATCH my-patch on switch-vs-flush \(cpus 2\)/);
    expect(r.out).toMatch(/counterexample: .*my-patch--switch-vs-flush-c2--no-stale-tlb-use\.json/);
    expect(r.out).toMatch(/replay: npx tlbcheck replay /);
  });
});

describe('the manifest is the tripwire', () => {
  it('a changed pin, a missing expectation and a row whose variant is gone each fail, saying why', async () => {
    const gone = { ...small[0]!, variant: 'linux-9.99' };
    const rows = rows412
      .filter((r) => r.scenario !== 'lazy-flush')
      .map((r) => (r.scenario === 'lazy-free-pgtables' ? { ...r, states: (r.states ?? 0) + 1 } : r));
    const m = manifestWith([...rows, gone]);
    const r = await cli('gate', '--manifest', m, '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as Report;
    const pin = j.rows.find((x) => x.scenario === 'lazy-free-pgtables')!;
    expect([pin.ok, pin.actual]).toEqual([false, 'holds']);
    expect(pin.problems.join()).toMatch(/atomicity or the search changed.*--update-pins/);
    const missing = j.rows.find((x) => x.variant === 'linux-4.12' && x.scenario === 'lazy-flush')!;
    expect([missing.ok, missing.actual]).toEqual([false, 'not run']);
    expect(missing.problems.join()).toMatch(/not in gate\/manifest\.json/);
    const stale = j.rows.find((x) => x.variant === 'linux-9.99')!;
    expect(stale.problems.join()).toMatch(/no longer exists/);
    // the other variants' expectations are all missing from this manifest
    const others = VARIANTS.filter((v) => v.id !== 'linux-4.12').reduce((n, v) => n + v.expect.length, 0);
    expect(j.summary.failed).toBe(3 + others);
    expect(j.rows.filter((x) => x.ok).length).toBe(rows.length - 1);
  });

  it('--variant ID of a built-in variant the manifest leaves out reports its rows as missing', async () => {
    const t = await cli('gate', '--manifest', manifestWith(small), '--variant', 'linux-4.13-flush-no-mb', '--json');
    expect(t.code).toBe(1);
    const j = JSON.parse(t.out) as Report;
    expect(j.rows.length).toBe(2);
    expect(j.rows.every((x) => !x.ok && x.problems.join().includes('not in gate/manifest.json'))).toBe(true);
  });

  it('a malformed manifest is bad input (exit 2, one line)', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'm.json'), '{"schema":"tlbcheck-gate-manifest/1","rows":[{"variant":"x"}]}');
    const r = await cli('gate', '--manifest', join(d, 'm.json'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/invalid gate manifest/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});

describe('reports for CI', () => {
  it('JSON has one row per manifest row with the documented fields, and a summary', async () => {
    const r = await cli('gate', '--manifest', manifestWith(small), '--variant', COPY, '--json');
    const j = JSON.parse(r.out) as { rows: Record<string, unknown>[]; summary: Record<string, unknown> };
    for (const k of ['variant', 'scenario', 'cpus', 'features', 'bounds', 'expected', 'actual', 'executions', 'states', 'elapsedMs']) {
      expect(j.rows[0]).toHaveProperty(k);
    }
    expect(j.summary).toMatchObject({ rows: small.length, passed: small.length, failed: 0 });
  });

  it('on a terminal every search shows a progress line; with --json it stays quiet', async () => {
    const m = manifestWith(rows412.filter((r) => r.cpus === 3));
    const run = async (manifest: string, ...extra: string[]) => {
      const out: string[] = [];
      const status: string[] = [];
      const code = await main(['gate', '--manifest', manifest, '--variant', COPY, '--seed', '9', ...extra], { out: (s) => out.push(s), err: (s) => out.push(s), status: (s) => status.push(s) });
      return { code, out, status };
    };
    const tty = await run(m);
    expect(tty.code).toBe(0);
    expect(tty.status.at(-1)).toBe(''); // cleared at the end
    expect(tty.status.slice(0, -1).join('\n')).toMatch(/exec\/s, \d+ states\/s, \d+ states, depth \d+, [\d.]+ s, tree ~[\d.e+]+ executions \(Knuth, 64 probes, seed 9\)/);
    // without --json even a short run clears the line at the end; with --json nothing at all
    const json = await run(manifestWith(small), '--json');
    expect(json.code).toBe(0);
    expect(json.status).toEqual([]);
    expect(json.out).toHaveLength(1);
    expect((JSON.parse(json.out[0]!) as Report).rows).toHaveLength(small.length);
  });

  it('JUnit XML has one testcase per row and a failure per mismatch, escaped; it never overwrites a foreign file', async () => {
    const d = tempDir();
    const file = join(d, 'gate.xml');
    const r = await cli('gate', '--manifest', manifestWith(smallMixed), '--variant', COPY, MY_PATCH, '--junit', file, '--out', tempDir());
    expect(r.code).toBe(1);
    const xml = readFileSync(file, 'utf8');
    expect(xml.match(/<testcase /g)).toHaveLength(smallMixed.length);
    expect(xml.match(/<failure /g)).toHaveLength(3); // my-patch on switch-vs-flush, switch-vs-flush-local and idle-leave-mm
    expect(xml).toMatch(/<failure message="expected holds, got violates no-stale-tlb-use"[^>]*>[^<]*replay: npx tlbcheck replay /);
    expect(xml).toContain('walks unbounded, sb-depth&lt;=2');
    expect(xmlEscape('a<b & "c" \'d\' \u0001')).toBe('a&lt;b &amp; &quot;c&quot; &apos;d&apos; ');
    writeFileSync(join(d, 'notes.txt'), 'mine');
    const again = await cli('gate', '--manifest', manifestWith(small), '--variant', COPY, '--junit', file);
    expect(again.code).toBe(0);
    expect(readFileSync(file, 'utf8').match(/<failure /g)).toBeNull();
    const f = await cli('gate', '--manifest', manifestWith(small), '--variant', COPY, '--junit', join(d, 'notes.txt'));
    expect(f.code).toBe(2);
    expect(readFileSync(join(d, 'notes.txt'), 'utf8')).toBe('mine');
  });
});

describe('progress and the size estimate', () => {
  // A row with well over 1024 transitions even with partial-order reduction.
  const v = VARIANTS.find((x) => x.id === 'linux-6.18')!;
  const row = expectRows([v]).find((r) => r.scenario === 'asid-reuse' && r.cpus === 2)!;

  it('the stateful search reports progress through a callback, with growing counts, and the same result', () => {
    const seen: { states: number; depth: number }[] = [];
    const r = runRow(row, v, { progress: (p) => seen.push({ states: p.states, depth: p.depth }) });
    expect(r.transitions ?? 0).toBeGreaterThan(1024);
    expect(seen.length).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.states).toBeGreaterThanOrEqual(seen[i - 1]!.states);
    expect(r.states).toBe(runRow(row, v).states);
  });

  it("Knuth's estimate from random probes is deterministic for a seed and at least the number of executions", () => {
    const model = prepare({ variant: v, scenario: findScenario(row.scenario)!, params: { cpus: row.cpus }, features: row.features, bounds: row.bounds });
    const a = estimateTree(model, 32, 5);
    expect(estimateTree(model, 32, 5)).toEqual(a);
    expect(a.executions).toBeGreaterThanOrEqual(1);
    expect(a.seed).toBe(5);
  });
});
