/**
 * What GUP-fast relied on IPIs for (#16): mm/gup.c's lockless walk with IRQs off against a
 * munmap that frees the table. Its reads are software walk-reads that no-walk-through-freed-table
 * judges; with INVLPGB flushes only RCU table freeing (a37259732a7d) keeps the table alive.
 * Each claim at 2 CPUs; the 3-CPU rows are gate rows.
 */
import { describe, expect, it } from 'vitest';
import { prepare, runExecution } from '../src/explore/engine.ts';
import { RandomStrategy } from '../src/explore/random.ts';
import { checkWalkRead } from '../src/invariants/no-walk-through-freed-table.ts';
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
const AMD = { invlpgb: true } as const;

describe('gup-fast-vs-free-table', () => {
  it('without RCU table freeing (before a37259732a7d), an INVLPGB flush lets GUP-fast read the freed table', () => {
    const r = checkVariant(variant('linux-6.18-table-free-no-rcu'), 'gup-fast-vs-free-table', 2, { features: AMD });
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('no-walk-through-freed-table');
    expect(r.violation?.software).toBe(true);
    expect(r.violation?.cpu).toBe(1);
  });

  it('the same code holds with IPI flushes: the IPI waits for the IRQs-off walk', () => {
    expect(checkVariant(variant('linux-6.18-table-free-no-rcu'), 'gup-fast-vs-free-table', 2).verdict).toBe('holds');
  });

  it('linux-6.18 (RCU table freeing) holds with INVLPGB', () => {
    expect(checkVariant(variant('linux-6.18'), 'gup-fast-vs-free-table', 2, { features: AMD }).verdict).toBe('holds');
  });

  it('gather-free-before-flush no longer frees tables early: tlb_table_invalidate flushes before RCU frees them', () => {
    expect(checkVariant(variant('linux-6.18-gather-free-before-flush'), 'munmap-free-table', 2).verdict).toBe('holds');
  });
});

describe('free_pgtables of 4.14-4.18: tlb_remove_table() with the mm_users shortcut', () => {
  it('linux-4.14-table-free-single-user (before a6f572084fbe) frees the table before the flush: a lazy CPU walks it', () => {
    const r = checkVariant(variant('linux-4.14-table-free-single-user'), 'lazy-free-pgtables', 2);
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('no-walk-through-freed-table');
    expect(r.violation?.software).toBeUndefined();
  });

  it('linux-4.14 (flush, then free) holds there', () => {
    expect(checkVariant(variant('linux-4.14'), 'lazy-free-pgtables', 2).verdict).toBe('holds');
  });
});

describe('INVLPGB and the store buffer (kernel-range flushes)', () => {
  it('linux-6.18 with INVLPGB frees a kernel PTE page that a walk re-cached before the pmd store drained (the model reads INVLPGB as weakly ordered)', () => {
    const r = checkVariant(variant('linux-6.18'), 'kernel-pgtable-free', 2, { features: AMD });
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('no-walk-through-freed-table');
  });

  it('TLBSYNC is serializing in the engine too: the pmd store is visible before the TLBSYNC step of every execution', () => {
    const v = variant('linux-6.18');
    const model = prepare({ variant: v, scenario: findScenario('kernel-pgtable-free')!, params: { cpus: 2 }, features: { ...v.features, ...AMD }, bounds: DEFAULT_BOUNDS });
    const strategy = new RandomStrategy(7);
    let seen = 0;
    for (let i = 0; i < 40; i++) {
      const t = runExecution(model, strategy, { trace: true }).trace!;
      const sync = t.findIndex((e) => e.cpu === 0 && e.text.startsWith('tlbsync'));
      if (sync < 0) continue;
      seen++;
      const drained = t.findIndex((e) => e.cpu === 0 && e.actor === 'drain' && e.text.startsWith('pmd(init_mm'));
      expect(drained).toBeGreaterThanOrEqual(0);
      expect(drained).toBeLessThan(sync);
    }
    expect(seen).toBeGreaterThan(0);
  });

  it('smp_mb() before the INVLPGBs (linux-6.18-kernel-range-mb) holds there', () => {
    expect(checkVariant(variant('linux-6.18-kernel-range-mb'), 'kernel-pgtable-free', 2, { features: AMD }).verdict).toBe('holds');
  });
});

describe('no-walk-through-freed-table judges software walk-reads', () => {
  const read = (kind: PageKind, owner: number): Extract<Observation, { o: 'walk-read' }> => ({
    o: 'walk-read', cpu: 1, va: 0x1000, tree: 1, pfn: 4, level: 'leaf', kind, owner, speculative: false, viaPsc: false, software: true,
  });
  const name = (mm: number): string => `mm${mm}`;

  it('a leaf table of the walked mm is fine', () => {
    expect(checkWalkRead(read(PageKind.PtLeaf, 1), 7, name)).toBeUndefined();
  });

  it('a freed or reused page breaks it, and the violation says it was a software walk', () => {
    for (const kind of [PageKind.Free, PageKind.Data]) {
      const v = checkWalkRead(read(kind, 0), 7, name);
      expect(v?.software).toBe(true);
      expect(v?.message).toContain('software (GUP-fast) walk');
    }
  });
});
