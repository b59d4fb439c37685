/**
 * The mm side of linux-6.18 (src/kernel/c/mm/): the mmu_gather, the zap paths and the batched
 * reclaim flush. Each modelled bug is caught on its scenario with the invariant it breaks,
 * and the fixed code holds there (at 2 CPUs; madvise-race's fix is a gate row, too big for a
 * test). The no-use-after-free-page predicate judges by page generations, and the allocator
 * model hands out only free pages.
 */
import { describe, expect, it } from 'vitest';
import { prepare, runExecution } from '../src/explore/engine.ts';
import type { Strategy } from '../src/explore/strategy.ts';
import { checkFreedPageUse } from '../src/invariants/no-use-after-free-page.ts';
import { findVariant } from '../src/kernel/index.ts';
import type { Variant } from '../src/kernel/variant.ts';
import type { Observation } from '../src/machine/machine.ts';
import { DEFAULT_BOUNDS, PageKind } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { checkVariant } from './helpers.ts';

const variant = (id: string): Variant => {
  const v = findVariant(id);
  if (!v) throw new Error(`no variant ${id}`);
  return v;
};

const CAUGHT = [
  { bug: 'linux-6.18-gather-free-before-flush', scenario: 'munmap-zap', invariant: 'no-use-after-free-page' },
  { bug: 'linux-6.18-finish-no-nested-flush', scenario: 'madvise-race', invariant: 'no-stale-tlb-use' },
  { bug: 'linux-6.18-mremap-flush-after-unlock', scenario: 'mremap-vs-truncate', invariant: 'no-use-after-free-page' },
  { bug: 'linux-6.18-mprotect-no-batched-flush', scenario: 'reclaim-vs-mprotect', invariant: 'no-stale-tlb-use' },
  { bug: 'linux-6.18-lazy-skip-freed', scenario: 'munmap-free-table', invariant: 'no-walk-through-freed-table' },
] as const;

describe('linux-6.18 mm side: each modelled bug is caught, its fix holds', () => {
  for (const row of CAUGHT) {
    it(`${row.bug} violates ${row.invariant} on ${row.scenario} at 2 CPUs`, () => {
      const r = checkVariant(variant(row.bug), row.scenario, 2);
      expect(r.verdict).toBe('violated');
      expect(r.violation?.invariant).toBe(row.invariant);
    });
  }

  for (const scenario of ['munmap-zap', 'munmap-free-table', 'mremap-vs-truncate', 'reclaim-vs-mprotect']) {
    it(`linux-6.18 holds on ${scenario} at 2 CPUs`, () => {
      expect(checkVariant(variant('linux-6.18'), scenario, 2).verdict).toBe('holds');
    });
  }

  it('the default execution of munmap-zap flushes cpu1 before the page is freed, then reuses it', () => {
    const v = variant('linux-6.18');
    const model = prepare({ variant: v, scenario: findScenario('munmap-zap')!, params: { cpus: 2 }, features: v.features, bounds: DEFAULT_BOUNDS });
    const zero: Strategy = { begin: () => {}, choose: () => 0 };
    const t = runExecution(model, zero, { trace: true }).trace!;
    const ipi = t.findIndex((e) => e.cpu === 0 && e.text.includes('IPI'));
    const free = t.findIndex((e) => e.text.startsWith('free pfn'));
    const reuse = t.findIndex((e) => e.text.includes('reused as data'));
    expect(ipi).toBeGreaterThanOrEqual(0);
    expect(free).toBeGreaterThan(ipi);
    expect(reuse).toBeGreaterThan(free);
    expect(t[free]!.fn).toBe('tlb_batch_pages_flush');
  });
});

describe('no-use-after-free-page', () => {
  const use = (pfn: number, gen: number): Extract<Observation, { o: 'use' }> => ({
    o: 'use',
    cpu: 1,
    va: 0x1000,
    mm: 1,
    step: 9,
    entry: { pcid: 0, vpn: 1, pfn, global: false, writable: true, dirty: true, gen, mmGen: 0, rec: { upperLoc: 0, upperWid: 0, leafLoc: 0, leafWid: 0, step: 0 } },
  });
  const name = (m: number): string => `mm${m}`;

  it('allows a use of an allocated page of the generation the entry was filled with', () => {
    expect(checkFreedPageUse(use(3, 0), [PageKind.Data, PageKind.Data, PageKind.Data, PageKind.Data], [0, 0, 0, 0], 9, name)).toBeUndefined();
  });

  it('breaks on a use of a free page, and of a page reused since the fill', () => {
    expect(checkFreedPageUse(use(3, 0), [1, 1, 1, PageKind.Free], [0, 0, 0, 1], 9, name)?.invariant).toBe('no-use-after-free-page');
    const v = checkFreedPageUse(use(3, 0), [1, 1, 1, PageKind.Data], [0, 0, 0, 2], 9, name);
    expect(v?.invariant).toBe('no-use-after-free-page');
    expect(v?.pfn).toBe(3);
    expect(v?.message).toMatch(/freed and reused/);
  });

  it('a page reused after a fill made while it was free still breaks it (generation moved)', () => {
    // Filled at generation 1 (free), used at generation 2 (reused).
    expect(checkFreedPageUse(use(3, 1), [1, 1, 1, PageKind.Data], [0, 0, 0, 2], 9, name)?.invariant).toBe('no-use-after-free-page');
  });
});
