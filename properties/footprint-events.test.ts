/**
 * Footprints from the event stream (explore/footprint.ts `footprintOf` over the step's
 * machine/hw-events.ts events) are a sound dependence relation for partial-order reduction:
 * at states along random executions, any two enabled moves whose footprints are independent
 * commute - each stays enabled after the other, keeps its footprint there, and both orders
 * reach the same state (the same fingerprint). That is the property sleep sets and DPOR rely on.
 *
 * The footprints were first checked equal, step by step, to the ones the machine used to
 * record access by access (commit a41716d: every 2-cpu gate row and the litmus corpus, 662653
 * steps, no difference) before the machine's recording was removed. This check then found one
 * gap those footprints had too: two NMIs (or two preemptions) on different CPUs share the
 * execution's budget, so the last one disables the other; the `budget` event closes it (no
 * gate count moved: the stateful search and DPOR already covered that order).
 *
 * The models cover walks and their A/D updates, early walks, INVLPGB/TLBSYNC on 6.18, PTI,
 * IPIs (LOCK'd and xAPIC ICR stores), lazy TLB, freed and reused tables, software walks, NMIs,
 * the scheduler, evictions; every kind of hardware event is reached.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { prepare, type Model } from '../src/explore/engine.ts';
import { Sim } from '../src/explore/sim.ts';
import { type Footprint, footprintOf, independent } from '../src/explore/footprint.ts';
import { type Move, MoveKind, moveKind } from '../src/explore/strategy.ts';
import type { HwEvent } from '../src/machine/hw-events.ts';
import { DEFAULT_MANIFEST, boundsOfJson, loadManifest } from '../src/gate/manifest.ts';
import { findVariant } from '../src/kernel/index.ts';
import { compile } from '../src/litmus/compile.ts';
import { litmusModel } from '../src/litmus/harness.ts';
import { parseLitmus } from '../src/litmus/parse.ts';
import { findScenario } from '../src/scenario/index.ts';
import { DrainHidesWriteMachine } from './broken-machines.ts';

/** The model of the gate's 2-cpu row of `variant` on `scenario` (its features and bounds). */
const model = (variant: string, scenario: string): Model => {
  const row = loadManifest(DEFAULT_MANIFEST).rows.find((r) => r.variant === variant && r.scenario === scenario && r.cpus === 2);
  if (!row) throw new Error(`no gate row ${variant} ${scenario} 2`);
  return prepare({ variant: findVariant(variant)!, scenario: findScenario(scenario)!, params: { cpus: 2 }, features: row.features, bounds: boundsOfJson(row.bounds) });
};

const litmusText = (file: string) => parseLitmus(readFileSync(join(import.meta.dirname, 'litmus', file), 'utf8'));
const litmus = (file: string): Model => litmusModel(compile(litmusText(file)).spec);

/** `s` after move `mv`, recording its footprint and events. */
function after(s: Sim, mv: Move): Sim {
  const t = s.clone();
  t.recordFootprints = true;
  t.apply(mv, undefined);
  return t;
}

interface Tally {
  pairs: number;
  independent: number;
  readonly kinds: Set<string>;
  readonly broken: string[];
}

const tally = (): Tally => ({ pairs: 0, independent: 0, kinds: new Set(), broken: [] });

/** The footprint of the move that led to `s`, from its events (all of them, or those `keep` keeps). */
const footprint = (s: Sim, keep?: (e: HwEvent) => boolean): Footprint =>
  keep ? footprintOf((s.events ?? []).filter(keep), { words: s.m.mem.length, cpus: s.m.cpus.length, pages: s.m.pageKind.length }) : s.footprint!;

/** Check every pair of enabled moves at every state of `runs` random executions of `m`. */
function checkCommute(m: Model, runs: number, seed: string, out: Tally, keep?: (e: HwEvent) => boolean): void {
  const rng = seedrandom(seed);
  for (let run = 0; run < runs; run++) {
    let s = Sim.start(m, false);
    for (let step = 0; step < 400 && !s.violation; step++) {
      const moves = s.enabledMoves().filter((mv) => moveKind(mv) !== MoveKind.End);
      if (moves.length === 0) break;
      const next = moves.map((mv) => after(s, mv));
      for (const t of next) for (const e of t.events ?? []) out.kinds.add(e.k);
      for (let i = 0; i < moves.length; i++) {
        for (let j = i + 1; j < moves.length; j++) {
          out.pairs++;
          const [a, b] = [next[i]!, next[j]!];
          if (!independent(footprint(a, keep), footprint(b, keep))) continue;
          out.independent++;
          const [ma, mb] = [moves[i]!, moves[j]!];
          const broken = out.broken;
          const what = `${seed} run ${run} step ${step}: moves ${ma} and ${mb}`;
          if (a.violation || b.violation) continue;
          if (!a.enabledMoves().includes(mb) || !b.enabledMoves().includes(ma)) {
            broken.push(`${what}: one disables the other`);
            continue;
          }
          const ab = after(a, mb);
          const ba = after(b, ma);
          if (JSON.stringify(footprint(ab, keep)) !== JSON.stringify(footprint(b, keep)) || JSON.stringify(footprint(ba, keep)) !== JSON.stringify(footprint(a, keep))) {
            broken.push(`${what}: a footprint changes after the other move`);
          } else if (ab.fingerprint() !== ba.fingerprint() || (ab.violation === undefined) !== (ba.violation === undefined)) {
            broken.push(`${what}: the two orders reach different states`);
          }
        }
      }
      s = next[Math.floor(rng() * moves.length)]!;
    }
  }
}

describe('footprints derived from the event stream', () => {
  it('make independent moves commute, on kernel scenarios and litmus tests', () => {
    const t = tally();
    const models: [string, Model][] = [
      ['linux-4.13 switch-vs-flush', model('linux-4.13', 'switch-vs-flush')],
      ['linux-4.20 lazy-free-pgtables', model('linux-4.20', 'lazy-free-pgtables')],
      ['linux-4.20 nmi-uaccess-switch', model('linux-4.20', 'nmi-uaccess-switch')],
      ['linux-4.15-pti pti-return-to-user', model('linux-4.15-pti', 'pti-return-to-user')],
      ['linux-6.18 broadcast-flush', model('linux-6.18', 'broadcast-flush')],
      ['linux-6.18 gup-fast-vs-free-table', model('linux-6.18', 'gup-fast-vs-free-table')],
      ['linux-6.18 mm-reuse', model('linux-6.18', 'mm-reuse')],
      ['linux-6.18 lazy-flush', model('linux-6.18', 'lazy-flush')],
      ['linux-4.12-up preempt-cr3-up', model('linux-4.12-up', 'preempt-cr3-up')],
      ['tlb-ipi-xapic-ordered', litmus('tlb-ipi-xapic-ordered.litmus')],
      ['tlb-walk-after-invlpg', litmus('tlb-walk-after-invlpg.litmus')],
      ['tlb-early-walk-fault', litmus('tlb-early-walk-fault.litmus')],
      ['tlb-write-clean-entry-rewalks', litmus('tlb-write-clean-entry-rewalks.litmus')],
    ];
    for (const [name, m] of models) checkCommute(m, 3, name, t);
    expect(t.broken).toEqual([]);
    // The check has teeth: many pairs were independent (and so were compared).
    expect(t.independent).toBeGreaterThan(100);
    expect(t.independent).toBeLessThan(t.pairs);
    for (const k of ['load', 'wid', 'store', 'icr-store', 'drain', 'commit', 'rmw', 'ipi', 'probe', 'early', 'walk', 'ad', 'soft-walk', 'access', 'use', 'evict', 'insn', 'iret', 'irq', 'deliver', 'invlpgb', 'tlbsync', 'bcast', 'page-free', 'page-reuse', 'mm-life', 'prog', 'ghost', 'budget']) {
      expect(t.kinds.has(k), k).toBe(true);
    }
  });

  it('two NMIs on different CPUs depend through their shared budget: without it the check fails', () => {
    const t = tally();
    checkCommute(model('linux-4.20', 'nmi-uaccess-switch'), 1, 'nmi', t, (e) => e.k !== 'budget');
    expect(t.broken.length).toBeGreaterThan(0);
    expect(t.broken[0]).toMatch(/one disables the other/);
  });

  it('a drain that hides the word it writes fails the check (it can fail)', () => {
    const t = tally();
    const m = litmusModel(compile(litmusText('SB.litmus')).spec, (i) => new DrainHidesWriteMachine(i));
    checkCommute(m, 10, 'SB broken', t);
    expect(t.broken.length).toBeGreaterThan(0);
  });
});
