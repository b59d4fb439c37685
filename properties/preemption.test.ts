/**
 * Kernel preemption and tasks distinct from CPUs (issue #15): preempt_count gates where the
 * scheduler may switch a task out, the switch runs the generation's context_switch, and a
 * one-CPU scenario has preemption as its only concurrency. 5cf0791da5c1 (a CR3 read+write
 * with preemption on) is caught by `access-through-own-mm` at 1 and 2 CPUs, its fix holds,
 * and without preemptions the bug cannot show (the budget is what finds it).
 */
import { describe, expect, it } from 'vitest';
import { search } from '../src/explore/check.ts';
import { prepare } from '../src/explore/engine.ts';
import { VARIANTS } from '../src/kernel/index.ts';
import type { Variant } from '../src/kernel/variant.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import type { Scenario } from '../src/scenario/world.ts';
import { checkVariant, cli, tempDir } from './helpers.ts';
import { TaskTable } from '../src/explore/tasks.ts';
import { Hasher } from '../src/machine/hash.ts';

const getVariant = (id: string): Variant | undefined => VARIANTS.find((v) => v.id === id);

const BUG = 'linux-4.12-up-cr3-preemptible';

describe('preemption: 5cf0791da5c1 on preempt-cr3-up', () => {
  for (const cpus of [1, 2]) {
    it(`the bug variant is violated (access-through-own-mm) at ${cpus} CPU(s); its fix and the SMP base hold`, () => {
      const bug = checkVariant(getVariant(BUG)!, 'preempt-cr3-up', cpus);
      expect(bug.verdict).toBe('violated');
      expect(bug.verdict === 'violated' && bug.violation.invariant).toBe('access-through-own-mm');
      for (const ok of ['linux-4.12-up', 'linux-4.12']) expect(checkVariant(getVariant(ok)!, 'preempt-cr3-up', cpus).verdict, ok).toBe('holds');
    });
  }

  it('without preemptions the bug variant holds: the violation needs the scheduler to switch in the CR3 window', () => {
    const s = findScenario('preempt-cr3-up')!;
    const none: Scenario = { ...s, build: (p) => ({ ...s.build(p), preemptions: 0 }) };
    const v = getVariant(BUG)!;
    const run = (sc: Scenario) => search(prepare({ variant: v, scenario: sc, params: { cpus: 1 }, features: v.features, bounds: DEFAULT_BOUNDS }), { strategy: 'dfs', seed: 1 }).verdict;
    expect(run(none)).toBe('holds');
    expect(run(s)).toBe('violated');
  });

  it('the CLI finds it at --cpus 1, explains it as a preempted CR3 write, and the counterexample replays', async () => {
    const out = tempDir();
    const r = await cli('check', '--variant', BUG, '--scenario', 'preempt-cr3-up', '--cpus', '1', '--out', out, '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    expect(j['invariant']).toBe('access-through-own-mm');
    expect(String(j['why'])).toMatch(/was preempted and cpu0 switched to task B.*wrote CR3 := page table pfn \d+.*found the next mm already loaded/);
    const rep = await cli('replay', String(j['counterexample']));
    expect(rep.code).toBe(1);
    expect(rep.out).toContain('still violated: access-through-own-mm');
  });
});

describe('the task table in the fingerprint', () => {
  it("hashes each CPU's preempt_count: two states that differ only there are two states", () => {
    const key = (t: TaskTable<number>): number => {
      const h = new Hasher();
      t.hashInto(h);
      return h.key();
    };
    const a = new TaskTable<number>(2, [0, 1, 0], [1, 2, 1], 1);
    const b = a.clone((fs) => fs);
    expect(key(b)).toBe(key(a));
    b.preempt[1] = 1;
    expect(key(b)).not.toBe(key(a));
  });
});
