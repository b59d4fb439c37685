/**
 * One stream of structured events: the trace digest (schema 4), the cross-variant alignment and
 * the minimizer read each event's data, not its wording.
 *
 * - Rewording every event (its text, its ordering tag and the display strings inside its data)
 *   leaves the digest unchanged, while a different value, location, operation, CPU, function,
 *   step or tape position changes it. The old text digest changes under the same rewording, so
 *   these tests fail on a digest over the text.
 * - Every recorded event says what happened (no event without a body).
 * - A version-4 file stores each event's canonical data (every location by what it is, no
 *   location number, no display string) and replays strictly by it, reworded.
 * - Aligned replay of a version-3 recording whose every text is garbled still matches its own
 *   variant step for step and passes on the fixing variant: the labels come from the data.
 * - Dropping a CPU renumbers the CPUs named in the data and places each location in the
 *   smaller world's layout.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCounterexample, modelOf, recordedTraceDigest, replay, sealCounterexample } from '../src/counterexample/counterexample.ts';
import { eventsDigest, eventsDigestV3, eventsDigestV4, traceDigest } from '../src/counterexample/digest.ts';
import { dataLabel, replayAligned } from '../src/counterexample/align.ts';
import { dropCpuData, smallerScenarios } from '../src/counterexample/minimize.ts';
import { driveTape, drive } from '../src/counterexample/drive.ts';
import type { CounterexampleFile } from '../src/counterexample/schema.ts';
import { type CanonData, canonData, type EventData } from '../src/explore/event-data.ts';
import { prepare, type TraceEvent } from '../src/explore/engine.ts';
import { MoveKind, moveKind } from '../src/explore/strategy.ts';
import { search } from '../src/explore/check.ts';
import { findVariant } from '../src/kernel/index.ts';
import { compile } from '../src/litmus/compile.ts';
import { litmusModel } from '../src/litmus/harness.ts';
import { parseLitmus } from '../src/litmus/parse.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { CORPUS, corpusPath } from './corpus.ts';

const FILE = 'linux-4.13-flush-no-mb--switch-vs-flush-c2--no-stale-tlb-use.json';

function replayed(name: string): { ce: CounterexampleFile; trace: readonly TraceEvent[] } {
  const ce = loadCounterexample(corpusPath(name));
  const out = replay(ce, findVariant(ce.variant)!, true);
  if (out.kind !== 'violated') throw new Error(`${name} does not replay to its violation`);
  return { ce, trace: out.trace };
}

/** The display strings inside event data, by key (sched's task names are its `from`/`to` strings). */
const DISPLAY_KEYS = new Set(['name', 'shown', 'mmName', 'what']);

/** `x` with every display string reworded (numbers, booleans and other strings kept). */
function rewordData(x: unknown, kind?: string): unknown {
  if (Array.isArray(x)) return x.map((y) => rewordData(y));
  if (x === null || typeof x !== 'object') return x;
  const o = x as Record<string, unknown>;
  const k = kind ?? (typeof o.k === 'string' ? o.k : undefined);
  return Object.fromEntries(
    Object.entries(o).map(([key, v]) => {
      // What a location is (`is`; a variable's name included) is its identity, not display.
      if (key === 'is') return [key, v];
      const display = typeof v === 'string' && (DISPLAY_KEYS.has(key) || (k === 'sched' && (key === 'from' || key === 'to')));
      return [key, display ? `«${v.toUpperCase()}, reworded»` : rewordData(v)];
    }),
  );
}

/** Every event reworded: its text, its tag and the display strings of its data. */
const reword = (trace: readonly TraceEvent[]): TraceEvent[] =>
  trace.map((e) => ({ ...e, text: `reworded: ${e.text.split('').reverse().join('')}`, tag: 'another tag', data: rewordData(e.data) as EventData }));

describe('the trace digest covers data, not wording', () => {
  const { trace } = replayed(FILE);

  it('rewording every event (text, tag, display strings in the data) leaves it unchanged; the text digest changes', () => {
    const r = reword(trace);
    expect(r.some((e, i) => JSON.stringify(e.data) !== JSON.stringify(trace[i]!.data))).toBe(true);
    expect(eventsDigest(r)).toBe(eventsDigest(trace));
    expect(traceDigest(r)).not.toBe(traceDigest(trace));
  });

  it('a different value, location, operation, cpu, function, step, tape position or store-buffer depth changes it', () => {
    const i = trace.findIndex((e) => e.data?.k === 'load' && e.data.at.is.kind === 'mm');
    const j = trace.findIndex((e) => e.branch !== undefined);
    expect(i).toBeGreaterThanOrEqual(0);
    const ld = trace[i]!.data as Extract<EventData, { k: 'load' }>;
    const at = (d: EventData) => (x: TraceEvent, n: number): TraceEvent => (n === i ? { ...x, data: d } : x);
    const edits: [string, (x: TraceEvent, n: number) => TraceEvent][] = [
      ['the value', at({ ...ld, val: { ...ld.val, v: ld.val.v + 1 } })],
      ['the location (both its number and what it is)', at({ ...ld, at: { ...ld.at, loc: ld.at.loc + 1, is: { kind: 'var', name: 'x' } } })],
      ['what the location is', at({ ...ld, at: { ...ld.at, is: { kind: 'pcpu', cpu: 0, field: 'loaded_mm' } } })],
      ['the operation', at({ ...ld, k: 'wait', what: 'w' } as EventData)],
      ['the store-buffer depth', at({ ...ld, sb: ld.sb + 1 })],
      ['the cpu', (x, n) => (n === i ? { ...x, cpu: x.cpu + 1 } : x)],
      ['the function', (x, n) => (n === i ? { ...x, fn: `${x.fn}_other` } : x)],
      ['the step', (x, n) => (n === i ? { ...x, step: x.step + 1 } : x)],
      ['the tape position', (x, n) => (n === j ? { ...x, branch: (x.branch ?? 0) + 1 } : x)],
    ];
    const base = eventsDigest(trace);
    for (const [what, edit] of edits) expect(eventsDigest(trace.map(edit)), what).not.toBe(base);
  });

  it("a location's number alone (its place in this model's layout) is not covered; the schema-3 digest covered it", () => {
    const renumber = (e: TraceEvent): TraceEvent => {
      const d = e.data;
      if (d === undefined || !('at' in d)) return e;
      return { ...e, data: { ...d, at: { ...d.at, loc: d.at.loc + 1000 } } };
    };
    const used = (e: TraceEvent): TraceEvent =>
      e.data?.k === 'access' && e.data.entry ? { ...e, data: { ...e.data, entry: { ...e.data.entry, leafLoc: e.data.entry.leafLoc + 1000 } } } : e;
    const moved = trace.map(renumber);
    expect(moved.some((e, i) => JSON.stringify(e.data) !== JSON.stringify(trace[i]!.data))).toBe(true);
    expect(eventsDigest(moved)).toBe(eventsDigest(trace));
    expect(eventsDigestV3(moved)).not.toBe(eventsDigestV3(trace));
    // A used TLB entry's table entries are named by pfn and index: another entry is another digest.
    expect(trace.some((e) => e.data?.k === 'access' && e.data.entry !== undefined)).toBe(true);
    expect(eventsDigest(trace.map(used))).not.toBe(eventsDigest(trace));
  });

  it('every reworded corpus file, re-sealed, still replays strictly to its digest', () => {
    for (const name of CORPUS) {
      const ce = loadCounterexample(corpusPath(name));
      const r = sealCounterexample({ ...ce, trace: reword(ce.trace as readonly TraceEvent[]).map((e) => ({ ...e, data: canonData(e.data!) })) });
      expect(r.digest, name).not.toBe(ce.digest);
      const out = replay(r, findVariant(ce.variant)!, true);
      expect(out.kind, name).toBe('violated');
      if (out.kind === 'violated') expect(out.digest, name).toBe(recordedTraceDigest(r));
    }
  });
});

describe('every recorded event says what happened', () => {
  const events = CORPUS.flatMap((name) => replayed(name).trace);

  it('the corpus traces: every event has data, and the NMI, scheduler and drain events have real bodies', () => {
    expect(events.every((e) => e.data !== undefined)).toBe(true);
    expect(events.map((e) => e.data!.k as string)).not.toContain('other');
    const nmi = events.filter((e) => e.actor === 'nmi');
    expect(nmi.length).toBeGreaterThan(0);
    for (const e of nmi) {
      expect(e.data?.k).toBe('nmi');
      if (e.data?.k === 'nmi') expect(e.text).toContain(`user va 0x${e.data.va.toString(16)}`);
    }
    const sched = events.filter((e) => e.actor === 'sched');
    expect(sched.length).toBeGreaterThan(0);
    for (const e of sched) {
      expect(e.data?.k).toBe('sched');
      if (e.data?.k === 'sched') expect(e.text).toContain(`(task${e.data.task})`);
    }
    for (const e of events.filter((x) => x.actor === 'drain')) expect(['drain', 'ipi-raise']).toContain(e.data?.k);
  });

  const litmus = (name: string) => {
    const src = readFileSync(new URL(`./litmus/${name}.litmus`, import.meta.url), 'utf8');
    return litmusModel(compile(parseLitmus(src)).spec);
  };

  it('the drain of an xAPIC ICR store names the IPI it raises', () => {
    const model = litmus('tlb-ipi-xapic-ordered');
    const d = drive(model, (moves) => Math.max(0, moves.findIndex((m) => moveKind(m) === MoveKind.Drain)), true);
    const raise = (d.trace ?? []).filter((e) => e.data?.k === 'ipi-raise');
    expect(raise.length).toBe(1);
    expect(raise[0]!.data).toMatchObject({ k: 'ipi-raise', target: 1 });
    expect(raise[0]!.text).toContain('IPI');
  });

  it('an eviction names the cache, PCID and entry it dropped', () => {
    const model = litmus('tlb-stale-translation-after-shootdown');
    const d = drive(model, (moves) => Math.max(0, moves.findIndex((m) => moveKind(m) === MoveKind.Evict)), true);
    const ev = (d.trace ?? []).filter((e) => e.actor === 'evict');
    expect(ev.length).toBeGreaterThan(0);
    for (const e of ev) {
      expect(e.data?.k).toBe('evict');
      if (e.data?.k === 'evict') expect(e.text).toBe(e.data.cache === 'tlb' ? `evict tlb pcid ${e.data.pcid} vpn ${e.data.index}` : `evict psc pcid ${e.data.pcid} upper[${e.data.index}]`);
    }
  });
});

describe('version-5 files', () => {
  it('store the canonical data of every event, equal to what replay makes', () => {
    const { ce, trace } = replayed(FILE);
    expect(ce.schema).toBe('tlbcheck-counterexample/5');
    expect(ce.trace.map((e) => e.data)).toEqual(trace.map((e) => canonData(e.data!)));
    expect(recordedTraceDigest(ce)).toBe(eventsDigest(trace));
  });

  it('store no display string and no location number (every corpus file)', () => {
    for (const name of CORPUS) {
      const text = JSON.stringify(loadCounterexample(corpusPath(name)).trace.map((e) => e.data));
      // A named variable's name is what it is (`is: { kind: 'var', name }`), not display.
      expect(text.replace(/"kind":"var","name":"[^"]*"/g, ''), name).not.toMatch(/"(name|shown|mmName|what|loc|leafLoc|upperLoc)":/);
    }
  });
});

describe('cross-calls are data', () => {
  const V4 = `${import.meta.dirname}/fixtures/counterexample-v4.json`;
  const ipi = (e: TraceEvent | CounterexampleFile['trace'][number]): boolean => /^ipi-/.test(String(e.data?.k));

  it('a version-4 file (each call stored as its text) replays strictly, and its aligned replay matches step for step', () => {
    const ce = loadCounterexample(V4);
    expect(ce.schema).toBe('tlbcheck-counterexample/4');
    expect(ce.trace.filter(ipi).length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(ce.trace.filter(ipi).map((e) => e.data))).toMatch(/"fn":"flush_tlb_func_remote\(mmA, 0x1000-0x2000/);
    const out = replay(ce, findVariant(ce.variant)!, true);
    expect(out.kind).toBe('violated');
    if (out.kind === 'violated') expect(out.digest).toBe(recordedTraceDigest(ce));
    const own = replayAligned(modelOf(ce, findVariant(ce.variant)!), ce.trace, 'data-v4');
    expect(own.firstDifference).toBeUndefined();
    expect(own.kind === 'violated' && own.digest).toBe(recordedTraceDigest(ce));
  });

  it('its version-5 twin stores each call as function and argument; the digest covers those, not the text', () => {
    const v4 = loadCounterexample(V4);
    const v5 = loadCounterexample(corpusPath('linux-4.14-partial-on-gen-skip--concurrent-flushes-c2--no-stale-tlb-use.json'));
    expect(v5.schema).toBe('tlbcheck-counterexample/5');
    expect(v5.tape).toEqual(v4.tape);
    const calls = v5.trace.filter(ipi).map((e) => e.data as Record<string, unknown>);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    const info = { t: 'struct', f: { mm: { t: 'mm', id: 1 }, new_tlb_gen: 1, start: 4096, end: 8192 } };
    for (const c of calls) {
      expect(JSON.stringify(c)).not.toMatch(/"fn":/);
      const call = c.k === 'ipi-take' ? (c.calls as Record<string, unknown>[])[0]! : c;
      expect(call).toMatchObject({ func: 'flush_tlb_func_remote', info });
    }
    const out = replay(v5, findVariant(v5.variant)!, true);
    expect(out.kind).toBe('violated');
    if (out.kind !== 'violated') return;
    // Another wording of every call: the version-5 digest stays, the version-4 one moves.
    const reworded = out.trace.map((e) => (e.data?.k === 'ipi-send' ? { ...e, data: { ...e.data, fn: 'another wording' } } : e));
    expect(eventsDigest(reworded)).toBe(eventsDigest(out.trace));
    expect(eventsDigestV4(reworded)).not.toBe(eventsDigestV4(out.trace));
    // Another argument: both move.
    const other = out.trace.map((e) => (e.data?.k === 'ipi-send' ? { ...e, data: { ...e.data, info: { t: 'struct', f: { mm: { t: 'mm', id: 1 }, start: 4096, end: 12288, new_tlb_gen: 1 } } } } : e));
    expect(eventsDigest(other)).not.toBe(eventsDigest(out.trace));
  });
});

describe('aligned replay labels a cross-call by its function and argument', () => {
  it('two flushes of different ranges are two labels; a schema-4 recording is matched by its text', () => {
    const info = (end: number) => ({ t: 'struct', f: { mm: { t: 'mm', id: 1 }, start: 0x1000, end } });
    const a = { k: 'ipi-send', target: 1, fn: 'flush_tlb_func(mmA, 0x1000-0x2000)', func: 'flush_tlb_func', info: info(0x2000), sb: 0 } as EventData;
    const b = { k: 'ipi-send', target: 1, fn: 'flush_tlb_func(mmA, 0x1000-0x3000)', func: 'flush_tlb_func', info: info(0x3000), sb: 0 } as EventData;
    expect(dataLabel('f', a)).not.toBe(dataLabel('f', b));
    // A stored schema-5 event (canonical: no text) labels like the replay's own.
    expect(dataLabel('f', canonData(a))).toBe(dataLabel('f', a));
    // A schema-4 recording has the text only: a replayed event is labelled by its text to match it.
    const v4 = { k: 'ipi-send', target: 1, fn: 'flush_tlb_func(mmA, 0x1000-0x2000)', sb: 0 } as CanonData;
    expect(dataLabel('f', a, v4)).toBe(dataLabel('f', v4));
    expect(dataLabel('f', b, v4)).not.toBe(dataLabel('f', v4));
  });
});

describe('aligned replay reads the data', () => {
  const garble = (ce: CounterexampleFile) => ce.trace.map((e, i) => ({ ...e, text: `garbled ${i}` }));
  for (const name of CORPUS) {
    const ce = loadCounterexample(corpusPath(name));
    if (ce.fixedBy === undefined) continue;
    it(`${name}: with every text garbled, it matches its own variant step for step and passes on ${ce.fixedBy}`, () => {
      const own = replayAligned(modelOf(ce, findVariant(ce.variant)!), garble(ce));
      expect(own.firstDifference).toBeUndefined();
      expect(own.kind).toBe('violated');
      if (own.kind === 'violated') expect(own.digest).toBe(recordedTraceDigest(ce));
      expect(replayAligned(modelOf(ce, findVariant(ce.fixedBy!)!), garble(ce)).kind).toBe('passes');
    });
  }

  it('a version-2 style recording (text, no data) is still aligned by its text', () => {
    const ce = loadCounterexample(corpusPath(FILE));
    const text = ce.trace.map(({ data: _d, ...e }) => e);
    const own = replayAligned(modelOf(ce, findVariant(ce.variant)!), text);
    expect(own.firstDifference).toBeUndefined();
    expect(own.kind === 'violated' && own.digest).toBe(traceDigest(ce.trace));
    expect(replayAligned(modelOf(ce, findVariant(ce.fixedBy!)!), text).kind).toBe('passes');
  });

  it('a step label ignores values and names a location by what it is, not by its number', () => {
    const at = { loc: 117, name: 'mmA.cpumask', is: { kind: 'mm', mm: 1, field: 'cpumask' } } as const;
    const a: EventData = { k: 'load', at, val: { v: 0, shown: '{}' }, sb: 0 };
    expect(dataLabel('f', { ...a, val: { v: 3, shown: '{0,1}' }, sb: 2 })).toBe(dataLabel('f', a));
    expect(dataLabel('f', { ...a, at: { ...at, loc: 9, name: 'renamed' } })).toBe(dataLabel('f', a));
    expect(dataLabel('f', canonData(a))).toBe(dataLabel('f', a));
    expect(dataLabel('f', { ...a, at: { ...at, is: { kind: 'mm', mm: 2, field: 'cpumask' } } })).not.toBe(dataLabel('f', a));
    expect(dataLabel('g', a)).not.toBe(dataLabel('f', a));
    expect(dataLabel('f', { k: 'store', at, val: { v: 0, shown: '{}' }, buffered: false, sb: 0 })).not.toBe(dataLabel('f', a));
  });
});

describe('the minimizer renumbers CPUs in the data', () => {
  const v = findVariant('linux-4.13-flush-no-mb')!;
  const model = prepare({ variant: v, scenario: findScenario('switch-vs-flush')!, params: { cpus: 3 }, features: v.features, bounds: DEFAULT_BOUNDS });

  it('every event mapped onto a world with one CPU fewer names only its CPUs, at locations of its layout', () => {
    const r = search(model, { strategy: 'dfs', seed: 1, maxExecutions: 3000 });
    expect(r.verdict).toBe('violated');
    const trace = driveTape(model, r.tape!, true).trace ?? [];
    const smaller = smallerScenarios({ model });
    expect(smaller.length).toBe(3);
    let moved = 0;
    for (const sm of smaller) {
      const L = sm.subject.model.layout;
      for (const e of trace.map(sm.mapEvent)) {
        if (!e?.data) continue;
        const d = e.data;
        expect(e.cpu).toBeLessThan(2);
        if ('at' in d) {
          expect(L.locInfo(d.at.loc), e.text).toEqual(d.at.is);
          expect(d.at.name).toBe(L.nameOf(d.at.loc));
          if (d.at.is.kind === 'pcpu') moved++;
        }
        if (d.k === 'ipi-send') expect(d.target).toBeLessThan(2);
        if (d.k === 'ipi-take') for (const c of d.calls) expect(c.sender).toBeLessThan(2);
      }
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('CPU fields, IPI targets, broadcast issuers, senders and task numbers above the dropped CPU shift down by one', () => {
    const small = prepare({ ...model.cfg, params: { cpus: 2 } }).layout;
    const big = model.layout;
    const loc = big.pcpu(2, 'loaded_mm');
    const d = dropCpuData({ k: 'load', at: { loc, name: 'cpu2.loaded_mm', is: big.locInfo(loc) }, val: { v: 0, shown: 'init_mm' }, sb: 0 }, 1, small);
    expect(d).toMatchObject({ at: { loc: small.pcpu(1, 'loaded_mm'), name: 'cpu1.loaded_mm', is: { kind: 'pcpu', cpu: 1, field: 'loaded_mm' } } });
    const csd = big.csd(2, 0);
    expect(dropCpuData({ k: 'rmw', at: { loc: csd, name: big.nameOf(csd), is: big.locInfo(csd) }, op: 'bts', old: { v: 0, shown: '0' }, sb: 0 }, 1, small)).toMatchObject({
      at: { loc: small.csd(1, 0), is: { kind: 'csd', sender: 1, target: 0 } },
    });
    const mask = big.mmField(1, 'cpumask');
    expect(dropCpuData({ k: 'load', at: { loc: mask, name: big.nameOf(mask), is: big.locInfo(mask) }, val: { v: 5, shown: '{0,2}' }, bits: 4, sb: 0 }, 1, small)).toMatchObject({ bits: 2 });
    expect(dropCpuData({ k: 'load', at: { loc: mask, name: big.nameOf(mask), is: big.locInfo(mask) }, val: { v: 5, shown: '{0,2}' }, bits: 1, sb: 0 }, 1, small)).toMatchObject({ bits: 1 });
    expect(dropCpuData({ k: 'ipi-send', target: 2, fn: 'flush_tlb_func', sb: 0 }, 1, small)).toMatchObject({ target: 1 });
    expect(dropCpuData({ k: 'ipi-send', target: 0, fn: 'flush_tlb_func', sb: 0 }, 1, small)).toMatchObject({ target: 0 });
    expect(dropCpuData({ k: 'ipi-take', calls: [{ fn: 'f', sender: 2 }], sb: 0 }, 1, small)).toMatchObject({ calls: [{ sender: 1 }] });
    const inv = { va: null, nr: 1, pcid: null, asid: null, global: false, finalOnly: false, from: 2 };
    expect(dropCpuData({ k: 'bcast', from: 2, inv, tlb: 0, psc: 0, sb: 0 }, 1, small)).toMatchObject({ from: 1, inv: { from: 1 } });
    expect(dropCpuData({ k: 'sched', prev: 0, task: 3, from: "cpu0's first task", to: 't', exited: false, sb: 0 }, 1, small)).toMatchObject({ prev: 0, task: 2 });
  });
});
