/**
 * Swarm across machines: `--shard I/N` slices are disjoint and cover the swarm; the shards run
 * exactly the executions of the unsharded swarm (same steps in total, the same violating tape);
 * `tlbcheck merge` combines their JSON into one verdict and coverage, and refuses missing,
 * repeated, mismatched or malformed shard files in one line (exit 2). Seeds are fixed.
 */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { search } from '../src/explore/check.ts';
import { prepare } from '../src/explore/engine.ts';
import { mergeShards } from '../src/explore/merge-shards.ts';
import { shardMembers } from '../src/explore/swarm.ts';
import { findVariant } from '../src/kernel/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { cli, tempDir } from './helpers.ts';

const modelOf = (variant: string) =>
  prepare({ variant: findVariant(variant)!, scenario: findScenario('switch-vs-flush')!, params: { cpus: 2 }, features: findVariant(variant)!.features, bounds: DEFAULT_BOUNDS });

describe('shard slices', () => {
  it('are contiguous, disjoint and cover every member (fast-check, seed 16)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 64 }), (total, count) => {
        let next = 0;
        for (let i = 1; i <= count; i++) {
          const s = shardMembers(total, i, count);
          expect(s.first).toBe(next);
          expect(s.end).toBeGreaterThanOrEqual(s.first);
          next = s.end;
        }
        expect(next).toBe(total);
      }),
      { seed: 16, numRuns: 300 },
    );
  });

  it('run exactly the executions of the unsharded swarm', () => {
    const whole = search(modelOf('linux-4.13'), { strategy: 'swarm', seed: 5, maxExecutions: 120 });
    const parts = [1, 2, 3].map((index) => search(modelOf('linux-4.13'), { strategy: 'swarm', seed: 5, maxExecutions: 120, shard: { index, count: 3 } }));
    expect(whole.verdict).toBe('no-violation');
    expect(parts.reduce((a, r) => a + r.executions, 0)).toBe(whole.executions);
    expect(parts.reduce((a, r) => a + r.steps, 0)).toBe(whole.steps);
  });

  it('find the violation of the unsharded swarm in the shard that holds its member, with the same tape', () => {
    const bug = 'linux-4.13-cr3-before-cpumask';
    const whole = search(modelOf(bug), { strategy: 'swarm', seed: 1, maxExecutions: 5000 });
    expect(whole.verdict).toBe('violated');
    const member = whole.executions - 1;
    const count = 4;
    const index = [1, 2, 3, 4].find((i) => {
      const s = shardMembers(5000, i, count);
      return member >= s.first && member < s.end;
    })!;
    const part = search(modelOf(bug), { strategy: 'swarm', seed: 1, maxExecutions: 5000, shard: { index, count } });
    expect(part.verdict).toBe('violated');
    // The members before it in its slice are earlier members of the whole swarm, which found nothing.
    expect(part.swarm!.end).toBe(member + 1);
    expect(part.tape).toEqual(whole.tape);
    expect(part.bounds).toEqual(whole.bounds);
  });
});

describe('tlbcheck merge', () => {
  const shardsOf = async (dir: string, variant: string, seed: number, count: number, runs: number): Promise<string[]> => {
    const files: string[] = [];
    for (let i = 1; i <= count; i++) {
      const r = await cli('check', '--variant', variant, '--scenario', 'switch-vs-flush', '--strategy', 'swarm', '--seed', String(seed), '--shard', `${i}/${count}`, '--max-executions', String(runs), '--out', join(dir, 'out'), '--no-minimize', '--json');
      const f = join(dir, `s${seed}-${i}.json`);
      writeFileSync(f, r.out);
      files.push(f);
    }
    return files;
  };

  it('gives one no-violation verdict and the members covered, and a violation if any shard found one', async () => {
    const dir = tempDir();
    const ok = await shardsOf(dir, 'linux-4.13', 2, 3, 90);
    const m = await cli('merge', ...ok, '--json');
    expect(m.code).toBe(0);
    expect(JSON.parse(m.out)).toMatchObject({ verdict: 'no-violation', members: 90, ran: 90, shards: 3, complete: true });
    const t = await cli('merge', ...ok);
    expect(t.out).toMatch(/NO-VIOLATION\n {2}90 of 90 swarm members ran/);
    const bad = await shardsOf(dir, 'linux-4.13-flush-no-mb', 3, 2, 40);
    const v = await cli('merge', ...bad);
    expect(v.code).toBe(1);
    expect(v.out).toMatch(/^VIOLATED no-stale-tlb-use in [12] of 2 shards$/m);
    expect(v.out).toMatch(/counterexample: .*\.json/);
  });

  it('refuses a missing, repeated, mismatched or malformed shard in one line (exit 2)', async () => {
    const dir = tempDir();
    const a = await shardsOf(dir, 'linux-4.13', 3, 2, 20);
    const b = await shardsOf(dir, 'linux-4.13', 4, 2, 20);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"verdict": "holds"');
    const cases: [string[], RegExp][] = [
      [[a[0]!], /missing shard 2\/2/],
      [[a[0]!, a[0]!], /shard 1\/2 given twice/],
      [[a[0]!, b[1]!], /not a shard of the same swarm .*seed 4, not 3/],
      [[a[0]!, broken], /malformed JSON/],
      [[a[0]!, join(dir, 'absent.json')], /no such shard file/],
    ];
    for (const [files, msg] of cases) {
      const r = await cli('merge', ...files);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(msg);
    }
    // A dfs result is not a shard.
    const dfs = await cli('check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--json');
    expect(mergeShards([{ name: 'dfs.json', text: dfs.out }])).toMatchObject({ ok: false, problem: expect.stringMatching(/^dfs\.json: not the --json result of check --strategy swarm/) });
  });
});
