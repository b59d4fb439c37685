/**
 * The "why" of a violation: every stored counterexample's explanation is pinned
 * (explanations.ts); every invariant in the catalogue has an explainer, shown on a kernel that
 * breaks it; an explainer reads the structured data and never the text (rewording every event
 * leaves the explanation unchanged), and a different causal chain gives a different
 * explanation: another counterexample, or the same trace with one fact changed (an IPI that
 * was sent erased, a buffered store made visible at once).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ReplayOutcome, loadCounterexample, replay } from '../src/counterexample/counterexample.ts';
import { driveTape } from '../src/counterexample/drive.ts';
import { search } from '../src/explore/check.ts';
import { prepare } from '../src/explore/engine.ts';
import type { TraceEvent } from '../src/explore/sim.ts';
import { INVARIANTS } from '../src/invariants/index.ts';
import { findVariant } from '../src/kernel/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { EXPLAINERS, explain } from '../src/report/explain/index.ts';
import { findScenario } from '../src/scenario/index.ts';
import { EXPLANATIONS } from './explanations.ts';
import { cli, fixture, tempDir } from './helpers.ts';

const DIR = join(import.meta.dirname, '..', 'counterexamples');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

function violated(name: string): Extract<ReplayOutcome, { kind: 'violated' }> {
  const ce = loadCounterexample(join(DIR, name));
  const out = replay(ce, findVariant(ce.variant)!, true);
  if (out.kind !== 'violated') throw new Error(`${name} does not replay to a violation`);
  return out;
}

describe('every stored counterexample explains itself', () => {
  it('each file has a pinned explanation, and each pin a file', () => {
    expect(Object.keys(EXPLANATIONS).sort()).toEqual(FILES);
  });

  for (const name of FILES) {
    it(`${name}: the why matches its pin, and replay prints it first`, async () => {
      const out = violated(name);
      expect(explain(out.trace, out.violation).text).toBe(EXPLANATIONS[name]);
      const r = await cli('replay', join(DIR, name));
      expect(r.out.split('\n')[1]).toBe(`why: ${EXPLANATIONS[name]}`);
    });
  }

  it('replay --json carries the why as text and as a chain of links with steps', async () => {
    const name = 'linux-4.13-cr3-before-cpumask--switch-vs-flush-c2--no-stale-tlb-use.json';
    const j = JSON.parse((await cli('replay', join(DIR, name), '--json')).out) as {
      why: string;
      chain: { links: { at: { step: number; cpu: number } | null }[]; races: { read: { step: number }; write: { step: number } }[]; noIpi: { to: number } };
    };
    expect(j.why).toBe(EXPLANATIONS[name]);
    expect(j.chain.noIpi.to).toBe(1);
    expect(j.chain.races.map((r) => [r.read.step, r.write.step])).toContainEqual([7, 8]);
    expect(j.chain.links.at(-1)?.at).toEqual({ step: 11, cpu: 1 });
  });
});

describe('check prints the why of the counterexample it saves', () => {
  it('in text, right under the verdict, and in --json as text and chain', async () => {
    const dir = tempDir();
    const args = ['check', '--variant', 'linux-4.13-flush-no-mb', '--scenario', 'switch-vs-flush', '--out', dir];
    const t = await cli(...args);
    expect(t.code).toBe(1);
    const lines = t.out.split('\n');
    expect(lines[1]).toMatch(/^VIOLATED no-stale-tlb-use/);
    expect(lines[2]).toMatch(/^ {2}why: cpu0's set_pte_at changed pte\(mmA, va 0x1000\) .* -> so cpu0 sent no IPI to cpu1 /);
    const j = JSON.parse((await cli(...args, '--json')).out) as { why: string; chain: { noIpi: { from: number; to: number } } };
    expect(`  why: ${j.why}`).toBe(lines[2]);
    expect(j.chain.noIpi).toMatchObject({ from: 0, to: 1 });
  });
});

describe('every invariant has an explainer, shown on a kernel that breaks it', () => {
  it('the registry covers the catalogue', () => {
    expect(Object.keys(EXPLAINERS).sort()).toEqual(INVARIANTS.map((i) => i.id).sort());
  });

  // Invariants without a stored counterexample: found here, then explained.
  const ROWS = [
    { invariant: 'kernel-assertion', variant: 'fixture:lazy-clears-bit', scenario: 'lazy-flush', says: /read mmA\.cpumask = \{\}.*hit its assertion "WARN_ON_ONCE/ },
    { invariant: 'no-deadlock', variant: 'fixture:handler-spins', scenario: 'switch-vs-flush', says: /cpu1 took it at step \d+, but its handler never returned.*IRQs off/ },
    { invariant: 'step-limit', variant: 'linux-4.13', scenario: 'switch-vs-flush', maxSteps: 6, says: /longer than the budget of 6 steps/ },
    { invariant: 'no-cpu-fault', variant: 'fixture:invpcid-flush', scenario: 'switch-vs-flush-local', says: /flush_tlb_func_common executed invpcid type 0 .* no INVPCID/ },
    { invariant: 'no-walk-through-freed-table', variant: 'fixture:lazy-ignores-flush', scenario: 'lazy-free-pgtables', says: /took it at step \d+ but invalidated nothing: it read .*cpu1\.state = 2/ },
    { invariant: 'no-stale-tlb-use', variant: 'fixture:no-ipi', scenario: 'lazy-flush', says: /read mmA\.cpumask = \{1\} at step \d+ -> so cpu0 sent no IPI to cpu1/ },
  ];
  for (const row of ROWS) {
    it(`${row.invariant}: ${row.variant} on ${row.scenario}`, async () => {
      const v = row.variant.startsWith('fixture:') ? await fixture(row.variant.slice(8)) : findVariant(row.variant)!;
      const model = prepare({ variant: v, scenario: findScenario(row.scenario)!, params: { cpus: 2 }, features: v.features, bounds: { ...DEFAULT_BOUNDS, ...(row.maxSteps ? { maxSteps: row.maxSteps } : {}) } });
      const r = search(model, { strategy: 'dfs', seed: 1 });
      expect(r.violation?.invariant).toBe(row.invariant);
      const d = driveTape(model, r.tape!, true);
      const x = explain(d.trace!, d.violation!);
      expect(x.invariant).toBe(row.invariant);
      expect(x.text).toMatch(row.says);
    });
  }
});

describe('an explainer follows the causal chain in the data', () => {
  const reworded = (t: readonly TraceEvent[]): TraceEvent[] => t.map((e) => ({ ...e, text: 'reworded', fn: e.fn }));

  it('rewording every event text changes no explanation (nothing parses display text)', () => {
    for (const name of FILES) {
      const out = violated(name);
      expect(explain(reworded(out.trace), out.violation).text, name).toBe(EXPLANATIONS[name]);
    }
  });

  it('two bugs of the same invariant get different chains: no barrier before the mask read, CR3 before the cpumask bit', () => {
    const noMb = EXPLANATIONS['linux-4.13-flush-no-mb--switch-vs-flush-c2--no-stale-tlb-use.json']!;
    const cr3 = EXPLANATIONS['linux-4.13-cr3-before-cpumask--switch-vs-flush-c2--no-stale-tlb-use.json']!;
    expect(noMb).toContain('still in its store buffer (no barrier between them)');
    expect(cr3).not.toContain('no barrier between them');
    expect(cr3).toContain('cpu1 had loaded CR3 already at step 3');
    expect(noMb).not.toContain('had loaded CR3 already');
  });

  it('erasing the IPI that was sent turns "the handler did nothing" into "no IPI"', () => {
    const name = 'linux-4.14-partial-on-gen-skip--concurrent-flushes-c2--no-stale-tlb-use.json';
    const out = violated(name);
    const before = explain(out.trace, out.violation);
    expect(before.text).toContain('invalidated nothing for va 0x1000');
    expect(before.noIpi).toBeUndefined();
    const erased = out.trace.map((e) => (e.data?.k === 'ipi-send' ? { ...e, data: { k: 'mfence' as const, sb: e.data.sb } } : e));
    const after = explain(erased, out.violation);
    expect(after.text).toContain('so cpu0 sent no IPI to cpu1');
    expect(after.noIpi).toMatchObject({ from: 0, to: 1 });
    expect(after.text).not.toBe(before.text);
  });

  it('a PTE store that was visible at once is no longer blamed on the store buffer', () => {
    const name = 'linux-4.13-flush-no-mb--switch-vs-flush-c2--no-stale-tlb-use.json';
    const out = violated(name);
    const before = explain(out.trace, out.violation);
    expect(before.races.some((r) => r.kind === 'buffered')).toBe(true);
    const visible = out.trace.map((e) => (e.data?.k === 'store' && e.data.at.is.kind === 'table' ? { ...e, data: { ...e.data, buffered: false, sb: 0 } } : e));
    const after = explain(visible, out.violation);
    expect(after.text).not.toContain('was still in its store buffer');
    expect(after.races.some((r) => r.kind === 'buffered')).toBe(false);
  });
});
