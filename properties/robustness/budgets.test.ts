/**
 * Budgets instead of crashes: --max-states and --max-memory end a search as inconclusive
 * (exit 3) with the coverage reached; the heap limit is never what stops it, even when Node
 * itself runs with a small heap. A HOLDS whose collision bound is above 1e-6 says so.
 */
import { describe, expect, it } from 'vitest';
import { statefulBfs } from '../../src/explore/bfs.ts';
import { Budget, memoryInUse } from '../../src/explore/budget.ts';
import type { CheckResult } from '../../src/explore/check.ts';
import { prepare } from '../../src/explore/engine.ts';
import { getVariant } from '../../src/index.ts';
import { DEFAULT_BOUNDS } from '../../src/machine/types.ts';
import { verdictNote } from '../../src/report/format.ts';
import { findScenario } from '../../src/scenario/index.ts';
import { BIN, tlbcheck } from './files.ts';
import { spawnSync } from 'node:child_process';

describe('state and memory budgets', () => {
  it('--max-states ends a search as inconclusive with what it covered (dfs and bfs)', () => {
    for (const strategy of ['dfs', 'bfs']) {
      const r = tlbcheck(['check', '--variant', 'linux-6.18', '--scenario', 'spin-scaled', '--cpus', '3', '--strategy', strategy, '--max-states', '2000', '--json']);
      expect(r.code).toBe(3);
      const j = JSON.parse(r.out) as { verdict: string; stop: string; reason: string; states: number };
      expect(j.verdict).toBe('inconclusive');
      expect(j.stop).toBe('states');
      expect(j.reason).toBe('state budget of 2000 ran out');
      expect(j.states).toBeGreaterThanOrEqual(2000);
    }
  });

  it('without the budget the same search completes: the budget, not the search, stopped it', () => {
    const r = tlbcheck(['check', '--variant', 'linux-6.18', '--scenario', 'spin-scaled', '--cpus', '3', '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { states: number }).states).toBeGreaterThan(2000);
  });

  // bfs: its frontier of states fills the heap fast (dfs's visited set takes ~15 bytes a state
  // since hash compaction, so it would need millions of states to reach 64 MB).
  it('--max-memory ends a search as inconclusive before the heap does, even under a small Node heap', () => {
    const r = spawnSync(process.execPath, ['--max-old-space-size=64', BIN, 'check', '--variant', 'linux-6.18', '--scenario', 'spin-scaled', '--cpus', '4', '--ops', '2', '--strategy', 'bfs', '--max-memory', '64', '--json'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).toBe(3);
    const j = JSON.parse(r.stdout) as { verdict: string; stop: string };
    expect(j).toMatchObject({ verdict: 'inconclusive', stop: 'memory' });
    expect(r.stderr).toBe('');
  });

  it('the memory budget counts the typed arrays outside the heap (where the visited set lives)', () => {
    const before = memoryInUse();
    const big = new Uint8Array(64 * 1048576);
    big[big.length - 1] = 1;
    expect(memoryInUse() - before).toBeGreaterThanOrEqual(64 * 1048576);
    expect(new Budget({ maxMemoryMb: Math.ceil((before + 32 * 1048576) / 1048576) }).exceeded(0)?.kind).toBe('memory');
    expect(big[big.length - 1]).toBe(1);
  });

  it('bfs honours maxStates in the library too', () => {
    const model = prepare({ variant: getVariant('linux-4.13'), scenario: findScenario('switch-vs-flush')!, params: { cpus: 3 }, features: getVariant('linux-4.13').features, bounds: DEFAULT_BOUNDS });
    const r = statefulBfs(model, { maxStates: 300 });
    expect(r.complete).toBe(false);
    expect(r.stop).toBe('states');
    expect(statefulBfs(model).complete).toBe(true);
  });
});

describe('the collision bound next to HOLDS', () => {
  const base = { verdict: 'holds', strategy: 'dfs' } as unknown as CheckResult;
  it('is printed when above 1e-6, and not below', () => {
    expect(verdictNote({ ...base, collisionProbability: 9.5e-3 } as CheckResult)).toMatch(/collision probability 9\.5e-3 > 1e-6/);
    expect(verdictNote({ ...base, collisionProbability: 1e-12 } as CheckResult)).toBe('');
    expect(verdictNote({ ...base, verdict: 'inconclusive', stop: 'interrupted' } as CheckResult)).toBe(' (interrupted)');
  });
});
