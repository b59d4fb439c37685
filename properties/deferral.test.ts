/**
 * Deferral (stateful.ts, "Deferral"): the stateful dfs leaves out a speculative walk or a
 * buffer's last drain that no other move of its state conflicts with. It must lose nothing:
 * against the search without it, the same violated invariants and the same final states, on
 * every built-in variant of three scenarios at 2 CPUs and on a 3-CPU sample. A walk that
 * reports nothing of what it did, and a drain that hides the word it writes, are shown to lose
 * outcomes under deferral, so the comparison can fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/litmus/compile.ts';
import { litmusModel } from '../src/litmus/harness.ts';
import { parseLitmus } from '../src/litmus/parse.ts';
import { type Model, prepare } from '../src/explore/engine.ts';
import { Sim } from '../src/explore/sim.ts';
import { absorber, dryWalkFootprint, probe } from '../src/explore/judge.ts';
import { MoveKind, moveArg, moveCpu, moveKind } from '../src/explore/strategy.ts';
import { tlbLookup } from '../src/machine/tlb.ts';
import { type StatefulResult, statefulDfs } from '../src/explore/stateful.ts';
import type { HwEvent } from '../src/machine/hw-events.ts';
import { Machine, type MachineInit } from '../src/machine/machine.ts';
import { DrainHidesWriteMachine } from './broken-machines.ts';
import { VARIANTS, findVariant } from '../src/kernel/index.ts';
import { type Bounds, DEFAULT_BOUNDS, vpnOf } from '../src/machine/types.ts';
import { findScenario, scenarioFits } from '../src/scenario/index.ts';

interface Outcomes {
  readonly finals: readonly string[];
  readonly invariants: readonly string[];
  readonly r: StatefulResult;
}

/** Every final state and every violated invariant (the search goes on past violations). */
function outcomes(model: Model, defer: boolean, por = true): Outcomes {
  const finals = new Set<string>();
  const invariants = new Set<string>();
  const h = new Uint32Array(2);
  const r = statefulDfs(model, {
    all: true,
    por,
    defer,
    final: (s) => {
      s.fingerprint(0, h);
      finals.add(`${h[0]}:${h[1]}`);
    },
    violation: (v) => invariants.add(v.invariant),
  });
  return { finals: [...finals].sort(), invariants: [...invariants].sort(), r };
}

const model = (variant: string, scenario: string, cpus: number, makeMachine?: (i: MachineInit) => Machine): Model => {
  const v = findVariant(variant)!;
  return prepare({ variant: v, scenario: findScenario(scenario)!, params: { cpus }, features: v.features, bounds: DEFAULT_BOUNDS }, makeMachine);
};

/** A walk that reports nothing (its semantics are right): it looks independent of every move. */
class WalkHidesItselfMachine extends Machine {
  override walk(c: number, va: number, speculative: boolean, write = false) {
    const events: HwEvent[] | null = this.events;
    const n = events?.length ?? 0;
    const plan = super.walk(c, va, speculative, write);
    if (events && events[n]?.k === 'walk') events.splice(n, 1);
    return plan;
  }
  /** The same defect in the walk deferral judges without taking it. */
  override dryWalk(c: number, va: number) {
    const dry = super.dryWalk(c, va);
    return dry && { events: dry.events.filter((e) => e.k !== 'walk'), obs: dry.obs };
  }
}

describe('deferring walks and drains loses no outcome', () => {
  const SCENARIOS = ['switch-vs-flush', 'lazy-free-pgtables', 'spin-scaled'];
  for (const v of VARIANTS) {
    const fits = SCENARIOS.filter((s) => scenarioFits(findScenario(s)!, v.routines));
    if (fits.length === 0) continue;
    it(`${v.id} on ${fits.join(', ')}, 2 cpus: same violated invariants and final states`, () => {
      for (const s of fits) {
        const m = model(v.id, s, 2);
        const off = outcomes(m, false);
        const on = outcomes(m, true);
        expect([on.r.complete, off.r.complete]).toEqual([true, true]);
        expect(on.invariants, `${v.id} ${s}`).toEqual(off.invariants);
        expect(on.finals, `${v.id} ${s}`).toEqual(off.finals);
        expect(on.r.states).toBeLessThanOrEqual(off.r.states);
        expect(off.r.deferred).toBe(0);
      }
    });
  }
  it('every litmus test of the corpus: the same final states and violations', () => {
    // Where several buffers each hold their last store to one word (x86-TSO's n6), every move
    // of the state is a candidate: one must stay, and the others it conflicts with with it.
    const dir = join(import.meta.dirname, 'litmus');
    const files = readdirSync(dir).filter((f) => f.endsWith('.litmus'));
    expect(files.length).toBeGreaterThan(40);
    let litmusDeferred = 0;
    for (const f of files.sort()) {
      const m = litmusModel(compile(parseLitmus(readFileSync(join(dir, f), 'utf8'))).spec);
      const off = outcomes(m, false);
      const on = outcomes(m, true);
      expect(on.invariants, f).toEqual(off.invariants);
      expect(on.finals, f).toEqual(off.finals);
      litmusDeferred += on.r.deferred;
    }
    expect(litmusDeferred).toBeGreaterThan(0);
  });

  it('defers moves on the scenarios compared (the comparisons are not vacuous), and none for a variant that declares invariants in C', () => {
    for (const s of ['switch-vs-flush', 'spin-scaled']) expect(statefulDfs(model('linux-6.18', s, 2)).deferred, s).toBeGreaterThan(0);
    // linux-6.18-gen-checked declares an invariant judged on every state: a state between two
    // left-out moves would never be judged.
    const declared = findVariant('linux-6.18-gen-checked')!;
    expect(declared.invariants?.length).toBeGreaterThan(0);
    const r = statefulDfs(model(declared.id, 'switch-vs-flush-local', 2));
    expect(r.deferred).toBe(0);
    expect(r.states).toBe(statefulDfs(model(declared.id, 'switch-vs-flush-local', 2), { defer: false }).states);
  });

  for (const [v, s] of [
    ['linux-6.18', 'spin-scaled'],
    ['linux-6.18', 'munmap-zap'],
    ['linux-4.13', 'switch-vs-flush'],
    ['linux-4.13-cr3-before-cpumask', 'switch-vs-flush'],
    ['linux-4.14-pcid-without-pge', 'kernel-range-flush-all'],
  ] as const) {
    it(`${v} on ${s}, 3 cpus: same violated invariants and final states, fewer states`, () => {
      const m = model(v, s, 3);
      const off = outcomes(m, false);
      const on = outcomes(m, true);
      expect(on.invariants).toEqual(off.invariants);
      expect(on.finals).toEqual(off.finals);
      expect(on.r.deferred).toBeGreaterThan(0);
      expect(on.r.states).toBeLessThan(off.r.states);
    });
  }
});

describe('deferral trusts the footprints', () => {
  it('a walk that reports nothing is deferred to the end of every execution, and final states are lost', () => {
    // The full search (no reduction) trusts no footprint: it finds the same final states with
    // the silent walk as with the right one. Deferral with the silent walk does not.
    const silent = (i: MachineInit) => new WalkHidesItselfMachine(i);
    for (const v of ['linux-4.15-pti', 'kaiser-percpu-flush']) {
      const full = outcomes(model(v, 'switch-vs-flush', 2, silent), false, false);
      expect(full.finals).toEqual(outcomes(model(v, 'switch-vs-flush', 2), false, false).finals);
      expect(outcomes(model(v, 'switch-vs-flush', 2), true).finals).toEqual(full.finals);
      const wrong = outcomes(model(v, 'switch-vs-flush', 2, silent), true);
      expect(wrong.r.deferred).toBeGreaterThan(0);
      expect(wrong.finals.length, v).toBeLessThan(full.finals.length);
    }
  });

  it('a drain that hides the word it writes is deferred past the load that reads it, and a violation is lost', () => {
    const bug = 'linux-4.13-cr3-before-cpumask';
    const hiding = (i: MachineInit) => new DrainHidesWriteMachine(i);
    const full = outcomes(model(bug, 'switch-vs-flush', 2, hiding), false, false);
    expect(full.invariants).toEqual(['no-stale-tlb-use']);
    expect(outcomes(model(bug, 'switch-vs-flush', 2), true).invariants).toEqual(full.invariants);
    const wrong = outcomes(model(bug, 'switch-vs-flush', 2, hiding), true);
    expect(wrong.r.deferred).toBeGreaterThan(0);
    expect(wrong.invariants).toEqual([]);
  });
});

describe('a walk deferral judges without taking it is judged as taking it would, and an absorbed one changes nothing', () => {
  /**
   * Every walk of every state (up to `cap` states, depth first without reduction): where
   * `dryWalkFootprint` gives a footprint, taking the walk on a copy gives the same footprint,
   * no violation and no move the state did not offer. Returns how many walks it judged dry,
   * and how many it left to the probe although they violate nothing (the accessed flag).
   */
  function compare(m: Model, cap: number): { dry: number; probedViolating: number; absorbed: number; hitBeforeAccess: number } {
    const seen = new Set<string>();
    const h = new Uint32Array(2);
    let dry = 0;
    let probedViolating = 0;
    let absorbed = 0;
    /** Dry walks of a CPU whose next step accesses the walked address through a TLB hit (so the walk fills only the PSC). */
    let hitBeforeAccess = 0;
    const after = (s: Sim, ...mvs: number[]): string => {
      const c = s.clone();
      let alive = true;
      for (const mv of mvs) if (!c.violation && alive) alive = c.apply(mv, undefined);
      c.fingerprint(0, h);
      return `${h[0]}:${h[1]} ${alive} ${c.violation?.invariant ?? '-'}`;
    };
    const stack = [Sim.start(m, false)];
    while (stack.length > 0 && seen.size < cap) {
      const s = stack.pop()!;
      s.recordFootprints = true;
      s.fingerprint(0, h);
      const key = `${h[0]}:${h[1]}`;
      if (seen.has(key) || s.violation) continue;
      seen.add(key);
      const moves = s.enabledMoves().slice();
      for (const mv of moves) {
        if (moveKind(mv) === MoveKind.Walk) {
          const fp = dryWalkFootprint(s, mv);
          const p = probe(s, mv, moves);
          if (fp) {
            dry++;
            expect(p.child.violation).toBeUndefined();
            expect(p.enables).toBe(false);
            expect(fp).toEqual(p.fp);
            // An absorbed walk: taken right before the access that absorbs it, it changes nothing.
            const ab = absorber(s, mv);
            const c = moveCpu(mv);
            const top = s.frames[c]![s.frames[c]!.length - 1];
            const cpu = s.m.cpu(c);
            if (top?.pending?.k === 'access' && top.pending.va === s.vas[moveArg(mv)] && tlbLookup(cpu.tlb, cpu.cr3Pcid, vpnOf(top.pending.va), cpu.pge)) {
              hitBeforeAccess++;
              expect(ab).toBeUndefined();
            }
            if (ab !== undefined) {
              expect(moves).toContain(ab);
              absorbed++;
              expect(after(s, mv, ab)).toBe(after(s, ab));
            }
          } else if (p.child.violation) probedViolating++;
        }
        const c = s.clone();
        if (c.apply(mv, undefined)) stack.push(c);
      }
    }
    return { dry, probedViolating, absorbed, hitBeforeAccess };
  }

  const ROWS: readonly (readonly [string, string, number])[] = [
    ['linux-6.18', 'spin-scaled', 3],
    ['linux-4.13', 'switch-vs-flush', 2],
    ['linux-4.15-pti', 'switch-vs-flush', 2],
    ['linux-4.20', 'mm-reuse', 2],
    // Several addresses: a walk of one next to an access of another.
    ['linux-6.18', 'concurrent-flushes', 3],
    ['linux-6.18', 'mremap-vs-truncate', 2],
    ['linux-4.20-lazy-skip-freed', 'lazy-free-pgtables', 2],
    ['linux-6.18-lazy-skip-freed', 'munmap-free-table', 2],
    ['linux-6.18-flush-range-not-freed', 'collapse-flush', 2],
  ];
  for (const [v, s, cpus] of ROWS.slice(0, 6)) {
    it(`${v} on ${s}, ${cpus} cpus (and every absorbed walk, taken before its access, changes nothing)`, () => {
      const r = compare(model(v, s, cpus), 3000);
      expect(r.dry).toBeGreaterThan(0);
      expect(r.absorbed).toBeGreaterThan(0);
    });
  }

  /** A model of the built-in variant and scenario under bounds other than the defaults. */
  const bounded = (variant: string, scenario: string, cpus: number, bounds: Partial<Bounds>): Model => {
    const v = findVariant(variant)!;
    return prepare({ variant: v, scenario: findScenario(scenario)!, params: { cpus }, features: v.features, bounds: { ...DEFAULT_BOUNDS, ...bounds } });
  };

  it('linux-6.18 on spin-scaled, 3 cpus, 1 eviction per cpu: a walk that fills only the PSC, where the access hits the TLB, is never absorbed', () => {
    const r = compare(bounded('linux-6.18', 'spin-scaled', 3, { evictions: 1 }), 3000);
    expect(r.dry).toBeGreaterThan(0);
    expect(r.absorbed).toBeGreaterThan(0);
    expect(r.hitBeforeAccess).toBeGreaterThan(0);
  });

  it('linux-4.13 on switch-vs-flush, 2 cpus, 1 eviction per cpu: a walk of a CPU that may still evict is not judged dry (its fill adds an eviction move)', () => {
    expect(compare(bounded('linux-4.13', 'switch-vs-flush', 2, { evictions: 1 }), 3000).dry).toBeGreaterThan(0);
  });

  it('linux-6.18 on spin-scaled, 3 cpus, 2 walks per cpu: a walk that spends budget is never absorbed', () => {
    const r = compare(bounded('linux-6.18', 'spin-scaled', 3, { walks: 2 }), 3000);
    expect(r.dry).toBeGreaterThan(0);
    expect(r.absorbed).toBe(0);
  });

  // The rows that free a table a lazy or remote CPU can still walk through.
  for (const [v, s, cpus] of ROWS.slice(6)) {
    it(`${v} on ${s}, ${cpus} cpus: a walk through a freed table is never judged dry; it is taken, and violates`, () => {
      expect(compare(model(v, s, cpus), 3000).probedViolating).toBeGreaterThan(0);
    });
  }
});
