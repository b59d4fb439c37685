/**
 * Litmus properties of the machine, explored exhaustively on the engine that checks the
 * kernel. Each states the outcome x86-TSO (Intel SDM Vol. 3A 8.2.3, the x86-TSO paper) or the
 * paging rules (SDM 4.10) allow or forbid, and checks the enumerated final states.
 */
import { describe, expect, it } from 'vitest';
import { NoForwardingMachine, WalkerSeesSbMachine } from './broken-machines.ts';
import * as fx from '../src/kernel/fx.ts';
import { type LitmusEnv, type LitmusSpec, litmusOutcomes } from '../src/litmus/harness.ts';
import { makeEntry, entryPfn } from '../src/machine/types.ts';
import type { CpuStart } from '../src/kernel/variant.ts';

type P = (e: LitmusEnv) => fx.Routine;
const ld = (e: LitmusEnv, loc: string, reg: string) =>
  (function* () {
    yield* fx.store(e.reg(reg), yield* fx.load(e.loc(loc)));
  })();

function sb(fence: (e: LitmusEnv) => fx.Routine | null): LitmusSpec {
  const t = (mine: string, other: string): P =>
    function* (e) {
      yield* fx.store(e.loc(mine), 1);
      const f = fence(e);
      if (f) yield* f;
      yield* ld(e, other, 'EAX');
    };
  return { name: 'SB', cpus: 2, locations: ['x', 'y'], registers: ['EAX'], programs: [t('x', 'y'), t('y', 'x')] };
}

const bothZero = '0:EAX=0; 1:EAX=0; x=1; y=1;';

describe('x86-TSO litmus tests', () => {
  it('SB: both loads may read 0 (store buffering, SDM 8.2.3.4)', () => {
    expect(litmusOutcomes(sb(() => null)).states).toContain(bothZero);
  });

  it('SB+mfences: forbidden', () => {
    const o = litmusOutcomes(sb(() => fx.smpMb()));
    expect(o.states).not.toContain(bothZero);
    expect(o.states).toHaveLength(3);
  });

  it('SB with LOCK XADD on a third location: forbidden (locked instructions are fences, 8.2.3.9)', () => {
    const spec = sb((e) => (function* () { yield* fx.xadd(e.loc('x') + 1 + 1, 1); })());
    expect(litmusOutcomes({ ...spec, locations: ['x', 'y', 'z'] }).states.some((s) => s.startsWith('0:EAX=0; 1:EAX=0;'))).toBe(false);
  });

  it('SB with a CR3 write as the fence: forbidden (serializing, 8.3)', () => {
    const spec: LitmusSpec = {
      ...sb((e) => fx.writeCr3(1, 0, false)),
      pages: (w) => [0, 1].map((): CpuStart => ({ mode: 'idle', mm: 0, cached: [] })),
    };
    expect(litmusOutcomes(spec).states).not.toContain(bothZero);
  });

  it('MP: loads are not reordered with loads, stores not with stores (8.2.3.2)', () => {
    const spec: LitmusSpec = {
      name: 'MP',
      cpus: 2,
      locations: ['x', 'y'],
      registers: ['EAX', 'EBX'],
      programs: [
        function* (e) {
          yield* fx.store(e.loc('x'), 1);
          yield* fx.store(e.loc('y'), 1);
        },
        function* (e) {
          yield* ld(e, 'y', 'EAX');
          yield* ld(e, 'x', 'EBX');
        },
      ],
    };
    const o = litmusOutcomes(spec);
    expect(o.states.some((s) => s.includes('1:EAX=1; 1:EBX=0;'))).toBe(false);
    expect(o.states.some((s) => s.includes('1:EAX=0; 1:EBX=1;'))).toBe(true);
  });

  it('n6-style forwarding: a CPU reads its own store early (8.2.3.5)', () => {
    const spec: LitmusSpec = {
      name: 'forward',
      cpus: 2,
      locations: ['x', 'y'],
      registers: ['EAX', 'EBX'],
      programs: [
        function* (e) {
          yield* fx.store(e.loc('x'), 1);
          yield* ld(e, 'x', 'EAX');
          yield* ld(e, 'y', 'EBX');
        },
        function* (e) {
          yield* fx.store(e.loc('y'), 1);
          yield* ld(e, 'x', 'EAX');
        },
      ],
    };
    // cpu0 sees its own x=1 while cpu1 still reads x=0 and cpu0 reads y=0.
    expect(litmusOutcomes(spec).states).toContain('0:EAX=1; 0:EBX=0; 1:EAX=0; 1:EBX=0; x=1; y=1;');
  });
});

/** One mm: va 0x1000 -> pfn OLD; the test may change it to pfn NEW. */
function onePage() {
  let pte = 0;
  let oldPfn = 0;
  let newPfn = 0;
  const pages = (w: import('../src/scenario/world.ts').WorldBuilder): CpuStart[] => {
    const A = w.addMm('mmA');
    oldPfn = w.dataPage();
    newPfn = w.dataPage();
    pte = w.mapUser(A, 0x1000, oldPfn);
    return [0, 1].map(() => ({ mode: 'user', mm: A.id, cached: [] }));
  };
  return { pages, pte: () => pte, oldPfn: () => oldPfn, newPfn: () => newPfn };
}

function* accessInto(e: LitmusEnv, reg: string): fx.Routine {
  const r = yield* fx.access(0x1000, false);
  yield* fx.store(e.reg(reg), r.ok ? r.pfn : 0);
}

/** cpu0 stores a new PTE and at once accesses the page; only the access's own walk runs. */
function walkOwnSb(t: ReturnType<typeof onePage>): LitmusSpec {
  return {
    name: 'walk-own-sb',
    cpus: 2,
    bounds: { walks: 0 },
    locations: [],
    registers: ['EAX'],
    vas: [0x1000],
    pages: t.pages,
    programs: [
      function* (e) {
        yield* fx.store(t.pte(), makeEntry(t.newPfn()));
        yield* accessInto(e, 'EAX');
      },
      function* () {},
    ],
  };
}

describe('translation litmus tests', () => {
  it("a walk does not see its own CPU's buffered PTE store (only serializing instructions order it)", () => {
    const t = onePage();
    const spec = walkOwnSb(t);
    const seen = litmusOutcomes(spec).states.map((s) => Number(/0:EAX=(\d+)/.exec(s)?.[1]));
    expect(seen).toContain(t.oldPfn());
    expect(seen).toContain(t.newPfn());
  });

  it('with INVLPG after the PTE store, the access sees only the new page', () => {
    const t = onePage();
    const spec: LitmusSpec = {
      name: 'walk-after-invlpg',
      cpus: 2,
      locations: [],
      registers: ['EAX'],
      vas: [0x1000],
      pages: t.pages,
      programs: [
        function* (e) {
          yield* fx.store(t.pte(), makeEntry(t.newPfn()));
          yield* fx.invlpg(0x1000);
          yield* accessInto(e, 'EAX');
        },
        function* () {},
      ],
    };
    const seen = litmusOutcomes(spec).states.map((s) => Number(/0:EAX=(\d+)/.exec(s)?.[1]));
    expect(seen).toEqual([t.newPfn()]);
  });

  it('LOCK does not order the walker: flag-then-access may use the old PTE while the writer saw no flag; a CR3 write after the flag forbids it', () => {
    const run = (cr3: boolean) => {
      const t = onePage();
      const spec: LitmusSpec = {
        name: `walker-vs-lock${cr3 ? '+cr3' : ''}`,
        cpus: 2,
        locations: ['flag'],
        registers: ['EAX'],
        vas: [0x1000],
        pages: t.pages,
        programs: [
          function* (e) {
            yield* fx.store(t.pte(), makeEntry(t.newPfn()));
            yield* fx.smpMb();
            yield* ld(e, 'flag', 'EAX');
          },
          function* (e) {
            yield* fx.xchg(e.loc('flag'), 1);
            if (cr3) yield* fx.writeCr3(2, 0, false);
            yield* accessInto(e, 'EAX');
          },
        ],
      };
      return { o: litmusOutcomes(spec), t };
    };
    const stale = (r: ReturnType<typeof run>) => r.o.states.some((s) => s.startsWith(`0:EAX=0; 1:EAX=${r.t.oldPfn()};`));
    expect(stale(run(false))).toBe(true);
    expect(stale(run(true))).toBe(false);
  });
});

describe('a rule broken on purpose changes a verdict', () => {
  it('loads that ignore their own buffered store break the forwarding litmus test', () => {
    const spec: LitmusSpec = {
      name: 'own-store',
      cpus: 1,
      locations: ['x'],
      registers: ['EAX'],
      programs: [
        function* (e) {
          yield* fx.store(e.loc('x'), 1);
          yield* ld(e, 'x', 'EAX');
        },
      ],
    };
    expect(litmusOutcomes(spec).states).toEqual(['0:EAX=1; x=1;']);
    expect(litmusOutcomes(spec, (i) => new NoForwardingMachine(i)).states).toContain('0:EAX=0; x=1;');
  });

  it('a walker that reads the store buffer hides the stale walk', () => {
    const t = onePage();
    const spec = walkOwnSb(t);
    const broken = litmusOutcomes(spec, (i) => new WalkerSeesSbMachine(i)).states.map((s) => Number(/0:EAX=(\d+)/.exec(s)?.[1]));
    expect(broken).toEqual([t.newPfn()]);
    expect(entryPfn(makeEntry(t.newPfn()))).toBe(t.newPfn());
  });
});
