/**
 * NMIs (issue #15): an NMI may arrive at any step, IRQs off included, and its perf handler
 * reads user memory of current with the generation's copy_from_user_nmi(). Without
 * nmi_uaccess_okay() (before 4012e77a903d) the read goes through the next mm's page tables in
 * the middle of a context switch, caught by `access-through-own-mm`; 4.20 and 6.18 hold; and
 * with no NMI the unchecked variant holds (the NMI is what finds it).
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

const getVariant = (id: string): Variant => VARIANTS.find((v) => v.id === id)!;
const BUG = 'linux-4.20-nmi-uaccess-unchecked';

describe('NMIs: 4012e77a903d on nmi-uaccess-switch', () => {
  it('the unchecked copy_from_user_nmi is violated (access-through-own-mm) at 1 CPU; 4.20 and 6.18 hold', () => {
    const bug = checkVariant(getVariant(BUG), 'nmi-uaccess-switch', 1);
    expect(bug.verdict).toBe('violated');
    expect(bug.verdict === 'violated' && bug.violation.invariant).toBe('access-through-own-mm');
    for (const ok of ['linux-4.20', 'linux-6.18']) expect(checkVariant(getVariant(ok), 'nmi-uaccess-switch', 1).verdict, ok).toBe('holds');
  });

  it('without an NMI the unchecked variant holds, and with an NMI budget it does not', () => {
    const s = findScenario('nmi-uaccess-switch')!;
    const none: Scenario = { ...s, build: (p) => ({ ...s.build(p), nmi: { budget: 0, va: 0x1000 } }) };
    const v = getVariant(BUG);
    const run = (sc: Scenario) => search(prepare({ variant: v, scenario: sc, params: { cpus: 1 }, features: v.features, bounds: DEFAULT_BOUNDS }), { strategy: 'dfs', seed: 1 }).verdict;
    expect(run(none)).toBe('holds');
    expect(run(s)).toBe('violated');
  });

  it('a generation without copy_from_user_nmi cannot run the scenario (one-line error)', async () => {
    const r = await cli('check', '--variant', 'linux-4.13', '--scenario', 'nmi-uaccess-switch');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('the CLI explains it as an NMI inside the switch, and the counterexample replays', async () => {
    const out = tempDir();
    const r = await cli('check', '--variant', BUG, '--scenario', 'nmi-uaccess-switch', '--cpus', '1', '--out', out, '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    expect(String(j['why'])).toMatch(/wrote CR3 := page table pfn \d+.*an NMI arrived at cpu0.*copy_from_user_nmi read user va 0x1000/);
    const rep = await cli('replay', String(j['counterexample']));
    expect(rep.code).toBe(1);
    expect(rep.out).toContain('still violated: access-through-own-mm');
  });
});
