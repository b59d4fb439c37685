/**
 * Unit properties of AMD broadcast invalidation (AMD64 APM Vol. 3, INVLPGB and TLBSYNC;
 * Linux arch/x86/include/asm/tlb.h), on a machine driven directly: INVLPGB queues its
 * invalidation on every CPU and invalidates nothing by itself, each CPU applies it as a step
 * of its own, TLBSYNC completes only when the issuer's own INVLPGBs are applied everywhere,
 * the match rules (address range, PCID, ASID, globals, final-translation-only), and #UD
 * without the feature. Every assertion is one a broken rule would fail.
 */
import { describe, expect, it } from 'vitest';
import type { InvlpgbSpec } from '../src/machine/effects.ts';
import { Machine } from '../src/machine/machine.ts';
import { DEFAULT_BOUNDS, type Features, PageKind, entryLoc, makeEntry, vpnOf } from '../src/machine/types.ts';
import { TlbsyncNoWaitMachine } from './broken-machines.ts';

const AMD: Features = { pcid: true, invpcid: true, pge: true, pti: false, invlpgb: true };
const VA = 0x1000; // upper index 0, leaf index 1
const VA2 = 0x2000; // upper index 0, leaf index 2
const KVA = 0x80000; // upper index 8: a global kernel page

/** pfn 1: root; pfn 2: leaf; pfn 3/4: data; pfn 5: shared kernel leaf with a global entry. */
function machine(features: Features = AMD, cpus = 3, make = (i: ConstructorParameters<typeof Machine>[0]) => new Machine(i)): Machine {
  const m = make({ features, bounds: DEFAULT_BOUNDS, cpus, pages: 6, vars: 2, varOwner: [-1, -1] });
  m.setPage(1, PageKind.PtUpper, 1);
  m.setPage(2, PageKind.PtLeaf, 1);
  m.setPage(3, PageKind.Data, 0);
  m.setPage(4, PageKind.Data, 0);
  m.setPage(5, PageKind.PtLeaf, -1);
  m.poke(entryLoc(1, 0), makeEntry(2));
  m.poke(entryLoc(2, 1), makeEntry(3));
  m.poke(entryLoc(2, 2), makeEntry(4));
  m.poke(entryLoc(1, 8), makeEntry(5));
  m.poke(entryLoc(5, 0), makeEntry(4, true));
  for (let c = 0; c < cpus; c++) {
    m.bootCr3(c, 1, 1);
    for (const va of [VA, VA2, KVA]) m.prefill(c, 1, 1, va);
  }
  return m;
}

const spec = (o: Partial<InvlpgbSpec>): InvlpgbSpec => ({ va: null, nr: 1, pcid: null, asid: null, global: false, finalOnly: false, ...o });
const has = (m: Machine, c: number, va: number): boolean => m.cpu(c).tlb.some((e) => e.vpn === vpnOf(va));
const applyAll = (m: Machine): void => {
  for (let t = 0; t < m.cpus.length; t++) for (const from of m.bcastIssuers(t)) while (m.cpu(t).inbox.some((b) => b.from === from)) m.applyBcast(t, from);
};

describe('INVLPGB: asynchronous broadcast', () => {
  it('queues the invalidation on every CPU, the issuer included, and invalidates nothing by itself', () => {
    const m = machine();
    expect(m.invlpgb(0, spec({ va: VA }))).toBeUndefined();
    for (let c = 0; c < 3; c++) {
      expect(has(m, c, VA)).toBe(true);
      expect(m.bcastIssuers(c)).toEqual([0]);
    }
  });

  it('each CPU applies it as a step of its own: one CPU done, the others still hold the entry', () => {
    const m = machine();
    m.invlpgb(0, spec({ va: VA }));
    const r = m.applyBcast(2, 0);
    expect(r.tlb).toBe(1);
    expect(has(m, 2, VA)).toBe(false);
    expect(has(m, 1, VA)).toBe(true);
    expect(has(m, 0, VA)).toBe(true);
  });

  it('does not drain the store buffer (weakly ordered)', () => {
    const m = machine();
    m.store(0, entryLoc(2, 1), 0);
    m.invlpgb(0, spec({ va: VA }));
    expect(m.cpu(0).sb).toHaveLength(1);
  });

  it('raises #UD without the feature, and so does TLBSYNC', () => {
    const m = machine({ ...AMD, invlpgb: false });
    expect(m.invlpgb(0, spec({ va: VA }))).toMatch(/^#UD/);
    expect(m.cpu(1).inbox).toHaveLength(0);
    expect(m.tlbsync(0)).toMatch(/^#UD/);
  });
});

describe('TLBSYNC', () => {
  it("completes only when the issuer's INVLPGBs are applied on every CPU", () => {
    const m = machine();
    m.invlpgb(0, spec({ va: VA }));
    m.invlpgb(0, spec({ va: VA2 }));
    expect(m.tlbsyncDone(0)).toBe(false);
    m.applyBcast(0, 0);
    m.applyBcast(1, 0);
    m.applyBcast(2, 0);
    expect(m.tlbsyncDone(0)).toBe(false); // the second one still waits at every CPU
    applyAll(m);
    expect(m.tlbsyncDone(0)).toBe(true);
    expect(m.tlbsync(0)).toBeUndefined();
  });

  it("waits only for its own CPU's INVLPGBs, not for other CPUs' ones", () => {
    const m = machine();
    m.invlpgb(1, spec({ va: VA }));
    expect(m.tlbsyncDone(0)).toBe(true);
    expect(m.tlbsyncDone(1)).toBe(false);
  });

  it('the broken machine that does not wait is told apart', () => {
    const m = machine(AMD, 3, (i) => new TlbsyncNoWaitMachine(i));
    m.invlpgb(0, spec({ va: VA }));
    expect(m.tlbsyncDone(0)).toBe(true);
  });

  it('a correct machine refuses to complete a TLBSYNC early ([tlbcheck bug])', () => {
    const m = machine();
    m.invlpgb(0, spec({ va: VA }));
    expect(() => m.tlbsync(0)).toThrow(/tlbcheck bug/);
  });
});

describe('INVLPGB match rules', () => {
  const after = (o: Partial<InvlpgbSpec>): Machine => {
    const m = machine();
    m.invlpgb(0, spec(o));
    applyAll(m);
    return m;
  };

  it('by address: that page only, its global entry only with include-global', () => {
    const m = after({ va: VA });
    expect(has(m, 1, VA)).toBe(false);
    expect(has(m, 1, VA2)).toBe(true);
    expect(has(after({ va: KVA }), 1, KVA)).toBe(true);
    expect(has(after({ va: KVA, global: true }), 1, KVA)).toBe(false);
  });

  it('a range of nr pages from va', () => {
    const m = after({ va: VA, nr: 2 });
    expect(has(m, 1, VA)).toBe(false);
    expect(has(m, 1, VA2)).toBe(false);
    expect(has(m, 1, KVA)).toBe(true);
  });

  it('by PCID: only that PCID, every address; another PCID keeps its entries', () => {
    const m = after({ pcid: 1 });
    expect(has(m, 1, VA) || has(m, 1, VA2)).toBe(false);
    const k = after({ pcid: 2 });
    expect(has(k, 1, VA) && has(k, 1, VA2)).toBe(true);
  });

  it('ASID 0 (the host) matches every entry; another ASID none', () => {
    expect(has(after({ va: VA, asid: 0 }), 1, VA)).toBe(false);
    expect(has(after({ va: VA, asid: 5 }), 1, VA)).toBe(true);
  });

  it('no filter: every non-global entry of every PCID; globals only with include-global', () => {
    const m = after({});
    expect(has(m, 1, VA) || has(m, 1, VA2)).toBe(false);
    expect(has(m, 1, KVA)).toBe(true);
    expect(m.cpu(1).tlb).toHaveLength(1);
    expect(after({ global: true }).cpu(1).tlb).toHaveLength(0);
  });

  it('drops the paging-structure-cache entries of the range, unless final-translation-only', () => {
    const m = after({ va: VA });
    expect(m.cpu(1).psc.some((p) => p.ui === 0)).toBe(false);
    expect(m.cpu(1).psc.some((p) => p.ui === 8)).toBe(true);
    const f = after({ va: VA, finalOnly: true });
    expect(f.cpu(1).psc.some((p) => p.ui === 0)).toBe(true);
    expect(has(f, 1, VA)).toBe(false);
  });
});

describe('ordering with the store buffer', () => {
  it('TLBSYNC is serializing (it drains the store buffer first); INVLPGB is weakly ordered (it does not)', () => {
    const m = machine();
    expect(m.drainsFirst('tlbsync')).toBe(true);
    expect(m.drainsFirst('invlpgb')).toBe(false);
  });
});
