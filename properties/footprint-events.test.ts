/**
 * Footprints from the event stream: at every step of the searches below, the footprint derived
 * from the step's hardware events (footprint.ts `footprintOf`) equals the one the machine
 * recorded access by access (`Machine.fp`), as sets of (resource, written). The scenarios
 * cover walks and their A/D updates, early walks, INVLPGB/TLBSYNC on 6.18, PTI, IPIs (LOCK'd,
 * xAPIC ICR stores, x2APIC), lazy TLB, freed and reused tables, software walks, NMIs and the
 * scheduler; the litmus tests add evictions and single hardware rules.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepare, type Model } from '../src/explore/engine.ts';
import { Sim } from '../src/explore/sim.ts';
import { statefulDfs } from '../src/explore/stateful.ts';
import { footprintMap } from '../src/explore/footprint.ts';
import { findVariant } from '../src/kernel/index.ts';
import { compile } from '../src/litmus/compile.ts';
import { litmusModel } from '../src/litmus/harness.ts';
import { parseLitmus } from '../src/litmus/parse.ts';
import { DEFAULT_MANIFEST, boundsOfJson, loadManifest } from '../src/gate/manifest.ts';
import { findScenario } from '../src/scenario/index.ts';

/** The model of the gate's 2-cpu row of `variant` on `scenario` (its features and bounds). */
const model = (variant: string, scenario: string): Model => {
  const row = loadManifest(DEFAULT_MANIFEST).rows.find((r) => r.variant === variant && r.scenario === scenario && r.cpus === 2);
  if (!row) throw new Error(`no gate row ${variant} ${scenario} 2`);
  return prepare({ variant: findVariant(variant)!, scenario: findScenario(scenario)!, params: { cpus: 2 }, features: row.features, bounds: boundsOfJson(row.bounds) });
};

const litmus = (file: string): Model => litmusModel(compile(parseLitmus(readFileSync(join(import.meta.dirname, 'litmus', file), 'utf8'))).spec);

/** Every step of a stateful search of `m` (with partial-order reduction, so footprints are recorded): recorded and derived footprints, and the event kinds seen. */
function compare(m: Model, maxStates: number, kinds: Set<string>): { steps: number; mismatches: string[] } {
  let steps = 0;
  const mismatches: string[] = [];
  const apply = Sim.prototype.apply;
  Sim.prototype.apply = function (this: Sim, mv, branch) {
    const alive = apply.call(this, mv, branch);
    steps++;
    for (const e of this.events ?? []) kinds.add(e.k);
    const recorded = footprintMap(this.footprint ?? []);
    if (JSON.stringify(recorded) !== JSON.stringify(this.derived) && mismatches.length < 5) mismatches.push(`move ${mv}: recorded ${JSON.stringify(recorded)}, derived ${JSON.stringify(this.derived)}`);
    return alive;
  };
  try {
    statefulDfs(m, { all: true, por: true, maxStates });
  } finally {
    Sim.prototype.apply = apply;
  }
  return { steps, mismatches };
}

describe('footprints derived from the event stream', () => {
  it('equal the recorded ones at every step of kernel scenarios and litmus tests', () => {
    const kinds = new Set<string>();
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
      ['tlb-ipi-xapic-ordered litmus', litmus('tlb-ipi-xapic-ordered.litmus')],
      ['tlb-walk-after-invlpg litmus', litmus('tlb-walk-after-invlpg.litmus')],
      ['tlb-early-walk-fault litmus', litmus('tlb-early-walk-fault.litmus')],
      ['tlb-write-clean-entry-rewalks litmus', litmus('tlb-write-clean-entry-rewalks.litmus')],
    ];
    let steps = 0;
    for (const [name, m] of models) {
      const r = compare(m, 3000, kinds);
      expect(r.mismatches, name).toEqual([]);
      expect(r.steps, name).toBeGreaterThan(0);
      steps += r.steps;
    }
    // The searches above reach every kind of hardware event (the engine's `end` is derived from the move).
    for (const k of ['load', 'wid', 'store', 'icr-store', 'drain', 'commit', 'rmw', 'ipi', 'probe', 'early', 'walk', 'ad', 'soft-walk', 'access', 'use', 'evict', 'insn', 'iret', 'irq', 'deliver', 'invlpgb', 'tlbsync', 'bcast', 'page-free', 'page-reuse', 'mm-life', 'prog', 'ghost']) {
      expect(kinds.has(k), k).toBe(true);
    }
    expect(steps).toBeGreaterThan(1000);
  });
});
