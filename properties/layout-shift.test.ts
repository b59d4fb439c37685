/**
 * A stored counterexample does not depend on the memory layout (src/kernel/layout.ts). Each
 * scenario is rebuilt here with one page more at the end of its world (so every variable's
 * location, which starts after the page tables, moves) and one named variable more before the
 * others (so the scenario's and the variant's own variables and the mm lifetime words move
 * again): the same kernel, the same tape, the same execution at other locations.
 *
 * - Every stored (version-4) counterexample replays strictly on the shifted world to its
 *   recorded digest, with the same trace text; its locations did move (the schema-3 digest of
 *   the same execution changes, so these tests fail on a digest over location numbers).
 * - The version-3 file of one of them (its data with location numbers) also replays strictly
 *   there: it is verified by its data read as version 4. The digest it was sealed under (the
 *   schema-3 rule, over the numbers) does not hold there.
 * - Aligned replay on the shifted world still matches the recording step for step and passes
 *   on the fixing variant.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CounterexampleFile, SCHEMA_ID, SCHEMA_V3 } from '../src/counterexample/schema.ts';
import { loadCounterexample, modelOf, recordedTraceDigest } from '../src/counterexample/counterexample.ts';
import { eventsDigest, eventsDigestV3, eventsDigestV4 } from '../src/counterexample/digest.ts';
import { replayAligned } from '../src/counterexample/align.ts';
import { type Model, prepare, runExecution, type TraceEvent } from '../src/explore/engine.ts';
import { ReplayStrategy } from '../src/explore/replay.ts';
import { findVariant } from '../src/kernel/index.ts';
import { PageKind } from '../src/machine/types.ts';
import type { Scenario } from '../src/scenario/world.ts';
import { CORPUS, corpusPath } from './corpus.ts';

const V3 = join(import.meta.dirname, 'fixtures', 'counterexample-v3.json');
const V3_TWIN = 'linux-4.13-flush-no-mb--switch-vs-flush-c2--no-stale-tlb-use.json';

/** `s` with a data page appended to its world and a variable inserted before its named ones. */
function shifted(s: Scenario): Scenario {
  return {
    ...s,
    build: (p) => {
      const w = s.build(p);
      return { ...w, pages: [...w.pages, { kind: PageKind.Data, owner: 0 }], extraVars: [{ name: 'layout_shift_pad', owner: -1 }, ...(w.extraVars ?? [])] };
    },
  };
}

/** The model of `ce` on `variant` (its own by default), in the shifted world. */
function shiftedModel(ce: CounterexampleFile, variant = ce.variant): Model {
  const cfg = modelOf(ce, findVariant(variant)!).cfg;
  return prepare({ ...cfg, scenario: shifted(cfg.scenario) });
}

/** Strict replay of `ce`'s tape on `model`, with a trace. */
function strict(ce: CounterexampleFile, model: Model) {
  const strategy = new ReplayStrategy(ce.tape, ce.widths);
  const r = runExecution(model, strategy, { trace: true });
  return { violation: r.violation, trace: r.trace ?? [], unused: strategy.unused };
}

/** Variable locations (not page-table entries) an event names, by number. */
const varLocs = (trace: readonly TraceEvent[]): number[] => trace.flatMap((e) => (e.data !== undefined && 'at' in e.data && e.data.at.is.kind !== 'table' ? [e.data.at.loc] : []));

describe('a layout shift leaves stored counterexamples valid', () => {
  let movedFiles = 0;
  for (const name of CORPUS) {
    it(`${name}: replays strictly on the shifted world to its recorded digest`, () => {
      const ce = loadCounterexample(corpusPath(name));
      expect(ce.schema).toBe(SCHEMA_ID);
      const base = strict(ce, modelOf(ce, findVariant(ce.variant)!));
      const moved = strict(ce, shiftedModel(ce));
      expect(moved.unused).toBe(0);
      expect(moved.violation?.invariant).toBe(ce.invariant);
      expect(moved.violation?.message).toBe(ce.message);
      expect(moved.trace.map((e) => e.text)).toEqual(ce.trace.map((e) => e.text));
      expect(eventsDigest(moved.trace)).toBe(recordedTraceDigest(ce));
      expect(eventsDigest(base.trace)).toBe(recordedTraceDigest(ce));
      const a = varLocs(base.trace);
      const b = varLocs(moved.trace);
      expect(b.length).toBe(a.length);
      // Every variable the execution touched is somewhere else now, and the schema-3 digest saw it.
      b.forEach((loc, i) => expect(loc).not.toBe(a[i]));
      if (a.length > 0) {
        movedFiles++;
        expect(eventsDigestV3(moved.trace)).not.toBe(eventsDigestV3(base.trace));
      }
    });
  }

  it('the shift moved the locations of most stored executions (mm, per-CPU, cross-call and lifetime words among them)', () => {
    expect(movedFiles).toBeGreaterThan(CORPUS.length / 2);
    const kinds = new Set<string>();
    for (const name of CORPUS) {
      const ce = loadCounterexample(corpusPath(name));
      for (const e of ce.trace) {
        const at = (e.data as { at?: { is?: { kind: string; field?: string } } } | undefined)?.at?.is;
        if (at) kinds.add(at.kind === 'mm' && (at.field === 'ctx_id' || at.field === 'mm_users' || at.field === 'mm_count' || at.field === 'slab') ? 'mm-life' : at.kind);
      }
    }
    expect([...kinds].sort()).toEqual(expect.arrayContaining(['csd', 'mm', 'mm-life', 'pcpu', 'table']));
  });

  it('a version-3 file replays strictly on the shifted world too, while the schema-3 rule it was sealed under breaks there', () => {
    const v3 = loadCounterexample(V3);
    const v4 = loadCounterexample(corpusPath(V3_TWIN));
    expect(v3.schema).toBe(SCHEMA_V3);
    expect(v3.tape).toEqual(v4.tape);
    expect(v3.trace.map((e) => e.text)).toEqual(v4.trace.map((e) => e.text));
    // The twin is version 5 now: equal under the version-4 rule the old file is judged by.
    expect(recordedTraceDigest(v3)).toBe(eventsDigestV4(v4.trace));
    const base = strict(v3, modelOf(v3, findVariant(v3.variant)!));
    const moved = strict(v3, shiftedModel(v3));
    expect(moved.violation?.invariant).toBe(v3.invariant);
    expect(eventsDigestV4(base.trace)).toBe(recordedTraceDigest(v3));
    expect(eventsDigestV4(moved.trace)).toBe(recordedTraceDigest(v3));
    expect(eventsDigestV3(moved.trace)).not.toBe(eventsDigestV3(base.trace));
  });

  it('aligned replay on the shifted world matches the recording step for step, and passes on the fixing variant', () => {
    let n = 0;
    for (const name of CORPUS) {
      const ce = loadCounterexample(corpusPath(name));
      if (ce.fixedBy === undefined) continue;
      const own = replayAligned(shiftedModel(ce), ce.trace);
      expect(own.firstDifference, name).toBeUndefined();
      expect(own.kind === 'violated' && own.digest, name).toBe(recordedTraceDigest(ce));
      expect(replayAligned(shiftedModel(ce, ce.fixedBy), ce.trace).kind, name).toBe('passes');
      n++;
    }
    expect(n).toBeGreaterThan(10);
  });
});
