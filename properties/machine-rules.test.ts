/**
 * Unit properties of the machine: one test per rule of the hardware semantics in docs/design.md, on a
 * machine driven directly (no exploration). Each asserts a result the rule decides.
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../src/machine/machine.ts';
import { type CallData, type CrossCall, crossCall } from '../src/machine/effects.ts';
import { Hasher } from '../src/machine/hash.ts';
import { callTextV4 } from '../src/kernel/call-text.ts';
import { DEFAULT_BOUNDS, type Features, NOT_ACCESSED, NOT_DIRTY, NOT_WRITABLE, PageKind, entryLoc, makeEntry, vpnOf } from '../src/machine/types.ts';

const ALL: Features = { pcid: true, invpcid: true, pge: true, pti: false };
const VA = 0x1000; // upper index 0, leaf index 1
const KVA = 0x80000; // upper index 8

/** pfn 1: root of mm 1; pfn 2: its leaf table; pfn 3/4: data; pfn 5: kernel leaf (shared). */
function machine(features: Features = ALL, cpus = 2, vars = 4): Machine {
  const m = new Machine({ features, bounds: DEFAULT_BOUNDS, cpus, pages: 6, vars, varOwner: [-1, -1, 0, 1] });
  m.setPage(1, PageKind.PtUpper, 1);
  m.setPage(2, PageKind.PtLeaf, 1);
  m.setPage(3, PageKind.Data, 0);
  m.setPage(4, PageKind.Data, 0);
  m.setPage(5, PageKind.PtLeaf, -1);
  m.poke(entryLoc(1, 0), makeEntry(2));
  m.poke(entryLoc(2, 1), makeEntry(3));
  m.poke(entryLoc(1, 8), makeEntry(5));
  m.poke(entryLoc(5, 0), makeEntry(4, true));
  for (let c = 0; c < cpus; c++) m.bootCr3(c, 1, 1);
  return m;
}
const X = 6 * 16; // first variable: shared
const Y = X + 1;
const PTE = entryLoc(2, 1);

describe('x86-TSO store buffers', () => {
  it('a plain store is buffered: invisible to other CPUs, visible to its own loads (forwarding)', () => {
    const m = machine();
    m.store(0, X, 7);
    expect(m.load(1, X)).toBe(0);
    expect(m.load(0, X)).toBe(7);
    m.drainOne(0);
    expect(m.load(1, X)).toBe(7);
  });

  it('drains commit in FIFO order', () => {
    const m = machine();
    m.store(0, X, 1);
    m.store(0, Y, 1);
    m.drainOne(0);
    expect([m.load(1, X), m.load(1, Y)]).toEqual([1, 0]);
  });

  it('a full buffer makes the next plain store wait', () => {
    const m = machine();
    m.store(0, X, 1);
    m.store(0, Y, 1);
    expect(m.canStore(0, X)).toBe(false);
    m.drainOne(0);
    expect(m.canStore(0, X)).toBe(true);
  });

  it('LOCK RMW, MFENCE and serializing instructions drain the buffer first', () => {
    for (const drain of [
      (m: Machine) => m.rmw(0, Y, 'xadd', 1),
      (m: Machine) => m.drainAll(0),
      (m: Machine) => m.writeCr3(0, 1, 1, true),
      (m: Machine) => m.invlpg(0, VA),
      (m: Machine) => m.invpcid(0, 1, 1, 0),
      (m: Machine) => m.wrmsrPasid(0, 3),
    ]) {
      const m = machine();
      m.store(0, X, 5);
      drain(m);
      expect(m.load(1, X)).toBe(5);
    }
  });

  it('private per-CPU variables bypass the buffer and reject other CPUs', () => {
    const m = machine();
    m.store(0, X + 2, 9);
    expect(m.cpu(0).sb.length).toBe(0);
    expect(() => m.load(1, X + 2)).toThrow(/tlbcheck bug/);
  });
});

describe('hardware walker, TLB and paging-structure caches', () => {
  it('a walk reads memory, not its own store buffer', () => {
    const m = machine();
    m.store(0, PTE, makeEntry(4));
    m.walk(0, VA, true);
    expect(m.cpu(0).tlb[0]?.pfn).toBe(3);
  });

  it('fills the TLB only with present translations, and fills the PSC with the upper entry', () => {
    const m = machine();
    m.poke(PTE, 0);
    m.walk(0, VA, true);
    expect(m.cpu(0).tlb.length).toBe(0);
    expect(m.cpu(0).psc.map((p) => p.leafPfn)).toEqual([2]);
  });

  it('a walk through a cached upper entry skips memory and reaches a freed table page', () => {
    const m = machine();
    m.walk(0, VA, true);
    m.poke(entryLoc(1, 0), 0);
    m.freePage(2);
    m.obs.length = 0;
    m.walk(0, VA, true);
    const reads = m.obs.filter((o) => o.o === 'walk-read');
    expect(reads.map((o) => (o.o === 'walk-read' ? [o.pfn, o.kind, o.viaPsc] : []))).toEqual([[2, PageKind.Free, true]]);
  });

  it('TLB entries are tagged by PCID; global entries match every PCID', () => {
    const m = machine();
    m.walk(0, VA, true);
    m.walk(0, KVA, true);
    expect(m.writeCr3(0, 1, 2, true)).toBeUndefined();
    expect(m.access(0, KVA)).toEqual({ ok: true, pfn: 4, viaTlb: true });
    expect(m.access(0, VA)).toEqual({ ok: true, pfn: 3, viaTlb: false });
  });

  it('a CR3 write without NOFLUSH drops the new PCID\'s non-global entries and PSC; a global entry survives', () => {
    const m = machine();
    m.walk(0, VA, true);
    m.walk(0, KVA, true);
    m.writeCr3(0, 1, 1, false);
    expect(m.cpu(0).tlb.map((e) => e.vpn)).toEqual([vpnOf(KVA)]);
    expect(m.cpu(0).psc.length).toBe(0);
  });

  it('a NOFLUSH CR3 write keeps the PCID\'s entries', () => {
    const m = machine();
    m.walk(0, VA, true);
    m.writeCr3(0, 1, 2, false);
    m.writeCr3(0, 1, 1, true);
    expect(m.access(0, VA)).toEqual({ ok: true, pfn: 3, viaTlb: true });
  });

  it('without PGE no entry is global, so a CR3 write drops all', () => {
    const m = machine({ ...ALL, pge: false });
    m.walk(0, KVA, true);
    m.writeCr3(0, 1, 1, false);
    expect(m.cpu(0).tlb.length).toBe(0);
  });

  it('INVLPG drops the address in the current PCID and its global entry, and every PSC entry of the current PCID', () => {
    const m = machine();
    m.walk(0, VA, true); // pcid 1
    m.writeCr3(0, 1, 2, true);
    m.walk(0, VA, true); // pcid 2
    m.walk(0, KVA, true); // global
    m.invlpg(0, VA);
    m.invlpg(0, KVA);
    expect(m.cpu(0).tlb.map((e) => e.pcid)).toEqual([1]);
    expect(m.cpu(0).psc.map((e) => e.pcid)).toEqual([1]);
  });

  it('INVPCID types 0-3', () => {
    const setup = () => {
      const m = machine();
      m.walk(0, VA, true); // pcid 1
      m.walk(0, KVA, true); // global
      m.writeCr3(0, 1, 2, true);
      m.walk(0, VA, true); // pcid 2
      return m;
    };
    const left = (m: Machine) => m.cpu(0).tlb.map((e) => `${e.pcid}${e.global ? 'g' : ''}`).sort();
    let m = setup();
    m.invpcid(0, 0, 1, VA);
    expect(left(m)).toEqual(['1g', '2']);
    m = setup();
    m.invpcid(0, 1, 2, 0);
    expect(left(m)).toEqual(['1', '1g']);
    m = setup();
    m.invpcid(0, 2, 0, 0);
    expect(left(m)).toEqual([]);
    m = setup();
    m.invpcid(0, 3, 0, 0);
    expect(left(m)).toEqual(['1g']);
  });

  it('INVPCID without the feature is a #UD fault, not a no-op', () => {
    const m = machine({ ...ALL, invpcid: false });
    m.walk(0, VA, true);
    expect(m.invpcid(0, 1, 1, 0)).toMatch(/#UD/);
  });

  it('toggling CR4.PGE drops everything, global entries included', () => {
    const m = machine();
    m.walk(0, KVA, true);
    m.walk(0, VA, true);
    m.writePge(0, false);
    expect(m.cpu(0).tlb.length + m.cpu(0).psc.length).toBe(0);
  });

  it('a walk that would change nothing is not worth exploring; one that reads a dead table is', () => {
    const m = machine();
    expect(m.walkMatters(0, VA)).toBe(true);
    m.walk(0, VA, true);
    expect(m.walkMatters(0, VA)).toBe(false);
    m.freePage(2);
    expect(m.walkMatters(0, VA)).toBe(true);
  });

  it('the hardware may evict any TLB or PSC entry, so a second access walks again', () => {
    const m = new Machine({ features: ALL, bounds: { ...DEFAULT_BOUNDS, evictions: 1 }, cpus: 1, pages: 6, vars: 0, varOwner: [] });
    m.setPage(1, PageKind.PtUpper, 1);
    m.setPage(2, PageKind.PtLeaf, 1);
    m.poke(entryLoc(1, 0), makeEntry(2));
    m.poke(PTE, makeEntry(3));
    m.bootCr3(0, 1, 1);
    expect(m.access(0, VA)).toMatchObject({ viaTlb: false });
    expect(m.access(0, VA)).toMatchObject({ viaTlb: true });
    m.evict(0, 0);
    expect(m.access(0, VA)).toMatchObject({ viaTlb: false });
    expect(m.evictables(0)).toBe(0);
  });
});

describe('copies', () => {
  it('a clone shares memory and the page arrays until one side writes: no write of either reaches the other', () => {
    const a = machine();
    a.setPage(3, PageKind.Data, 0);
    a.store(0, X, 7);
    a.drainOne(0);
    const snap = (m: Machine) => JSON.stringify([m.mem, m.wid, m.issued, [...m.pageKind], [...m.pageOwner], [...m.pageGen], [...m.mmGen]]);
    const fp = (m: Machine): number => {
      const h = new Hasher();
      m.hashInto(h);
      return h.key();
    };
    const before = snap(a);
    const key = fp(a);
    const b = a.clone();
    // Every kind of write on the clone: a drained store (memory, versions), an RMW, a page's
    // lifecycle (kind, owner, generation), an mm's lifetime, a poke.
    b.store(1, Y, 9);
    b.drainOne(1);
    b.rmw(0, X, 'xadd', 1);
    b.freePage(3);
    b.reusePage(3, 0);
    b.mmLife(1);
    b.poke(X, 11);
    expect(snap(a)).toBe(before);
    expect(fp(a)).toBe(key);
    expect(snap(b)).not.toBe(before);
    // And the other way: the parent's writes after the clone do not reach the clone.
    const c = a.clone();
    const cBefore = snap(c);
    a.store(0, Y, 5);
    a.drainOne(0);
    a.setPage(3, PageKind.Free, 0);
    a.mmLife(2);
    expect(snap(c)).toBe(cBefore);
    expect(snap(a)).not.toBe(cBefore);
  });
});

describe('interrupts', () => {
  it('an IPI waits while IRQs are off; the handler runs with IRQs off; IRET turns them back on', () => {
    const m = machine();
    m.setIrq(1, false);
    m.queueCall(0, 1, crossCall(0, 'f', undefined, X));
    expect(m.canDeliver(1)).toBe(false);
    m.setIrq(1, true);
    expect(m.canDeliver(1)).toBe(true);
    expect(m.deliver(1).map((c) => c.func)).toEqual(['f']);
    expect(m.cpu(1).irqOn).toBe(false);
    m.iret(1);
    expect(m.cpu(1).irqOn).toBe(true);
  });

  it('a queued call is identified by its function and argument as data, not by how it reads', () => {
    const info = (f: Record<string, unknown>) => ({ t: 'struct', f }) as CallData;
    const a = crossCall(0, 'flush_tlb_func', info({ mm: { t: 'mm', id: 1 }, start: 0x1000, end: 0x2000 }), X);
    const b = crossCall(0, 'flush_tlb_func', info({ end: 0x2000, start: 0x1000, mm: { id: 1, t: 'mm' } }), X);
    const all = crossCall(0, 'flush_tlb_func', info({ mm: { t: 'mm', id: 1 }, start: 0x1000, end: -1 }), X);
    const all0 = crossCall(0, 'flush_tlb_func', info({ mm: { t: 'mm', id: 1 }, start: 0, end: -1 }), X);
    expect(a.key).toBe(b.key);
    expect(a.key).not.toBe(all.key);
    // The two read the same ("flush_tlb_func(mmA, all)"), and are still two calls.
    const names = { mmName: (id: number) => `mm${String.fromCharCode(64 + id)}` };
    expect(callTextV4(names, all)).toBe(callTextV4(names, all0));
    expect(all.key).not.toBe(all0.key);
    const fp = (c: CrossCall): number => {
      const m = machine();
      m.queueCall(0, 1, c);
      const h = new Hasher();
      m.hashInto(h);
      return h.key();
    };
    expect(fp(a)).toBe(fp(b));
    expect(fp(all)).not.toBe(fp(all0));
  });

  it('queuing a cross-call is a LOCK\'d operation on the sender', () => {
    const m = machine();
    m.store(0, X, 1);
    m.queueCall(0, 1, crossCall(0, 'f', undefined, Y));
    expect(m.load(1, X)).toBe(1);
  });
});

describe('issue 17: early walks, interrupt drains, IPI sends, faults, A/D', () => {
  /** As `machine()`, with VA tracked for early walks and its PTE unmapped. */
  function tracked(): Machine {
    const m = new Machine({ features: ALL, bounds: DEFAULT_BOUNDS, cpus: 2, pages: 6, vars: 4, varOwner: [-1, -1, 0, 1], vas: [VA] });
    m.setPage(1, PageKind.PtUpper, 1);
    m.setPage(2, PageKind.PtLeaf, 1);
    m.setPage(3, PageKind.Data, 0);
    m.poke(entryLoc(1, 0), makeEntry(2));
    for (let c = 0; c < 2; c++) m.bootCr3(c, 1, 1);
    return m;
  }

  it('a not-present walk is remembered when the translation turns present, until a serializing instruction', () => {
    const m = tracked();
    m.store(0, PTE, makeEntry(3));
    expect(m.earlyFault(1, VA)).toBe(false); // still buffered: nothing turned present
    m.drainOne(0);
    expect(m.earlyFault(1, VA)).toBe(true);
    expect(m.access(1, VA, false, true)).toEqual({ ok: false, fault: 'not-present', early: true });
    // The fault invalidated the early walk: the next access walks and reaches the page.
    expect(m.access(1, VA)).toEqual({ ok: true, pfn: 3, viaTlb: false });
    m.store(0, PTE, 0);
    m.drainOne(0);
    m.store(0, PTE, makeEntry(3));
    m.drainOne(0);
    m.invlpg(1, VA);
    expect(m.earlyFault(1, VA)).toBe(false);
  });

  it('interrupt delivery drains the receiving CPU; an x2APIC send does not drain the sender, an xAPIC send is raised by its drain', () => {
    const m = tracked();
    const call = crossCall(0, 'f', undefined, X);
    m.store(1, Y, 4);
    m.queueCall(0, 1, call, 'wrmsr');
    m.store(0, X, 5);
    m.queueCall(0, 1, call, 'wrmsr');
    expect(m.load(1, X)).toBe(0); // the IPI is pending, the sender's store still buffered
    m.deliver(1);
    expect(m.load(0, Y)).toBe(4);
    const n = new Machine({ features: ALL, bounds: DEFAULT_BOUNDS, cpus: 2, pages: 6, vars: 4, varOwner: [-1, -1, 0, 1] });
    n.store(0, X, 5);
    n.queueCall(0, 1, call, 'mmio');
    expect(n.canDeliver(1)).toBe(false);
    n.drainOne(0);
    expect(n.canDeliver(1)).toBe(false);
    n.drainOne(0);
    expect(n.canDeliver(1)).toBe(true);
    expect(n.load(1, X)).toBe(5);
  });

  it('the walker sets A on a read, D on a write, with a locked update; a read-only entry faults on a write', () => {
    const m = tracked();
    m.poke(PTE, makeEntry(3, false, NOT_ACCESSED | NOT_DIRTY));
    expect(m.access(0, VA).ok).toBe(true);
    expect(m.mem[PTE]).toBe(makeEntry(3, false, NOT_DIRTY));
    expect(m.access(0, VA, true)).toEqual({ ok: true, pfn: 3, viaTlb: false }); // clean entry: walks again
    expect(m.mem[PTE]).toBe(makeEntry(3));
    m.poke(PTE, makeEntry(3, false, NOT_WRITABLE));
    m.invlpg(0, VA);
    expect(m.access(0, VA, true)).toEqual({ ok: false, fault: 'read-only' });
    expect(m.cpu(0).tlb.length).toBe(0); // the fault invalidated the entry it filled
  });
});
