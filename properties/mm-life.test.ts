/**
 * mm lifetimes: fork, exit (mmput -> exit_mmap, mmdrop) and an mm allocated at a freed mm's
 * address. The bug variant that names ASID slots by the mm's address (what f39681ed0f48's
 * ctx_id prevents) is caught by no-dead-mm-translation, and the real 4.14 and 6.18 hold; the
 * reused slot gets a ctx_id no mm had and a tlb_gen of 0; the invariant judges by ghost mm
 * generations; the scenario steps parse, and bad ones are one line. Small bounds: 1-2 CPUs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { driveTape } from '../src/counterexample/drive.ts';
import { prepare } from '../src/explore/engine.ts';
import type { TraceEvent } from '../src/explore/sim.ts';
import { checkDeadMmUse } from '../src/invariants/no-dead-mm-translation.ts';
import { findVariant } from '../src/kernel/index.ts';
import type { Variant } from '../src/kernel/variant.ts';
import type { Observation } from '../src/machine/machine.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { readScenarioFile } from '../src/scenario/from-file.ts';
import type { Scenario } from '../src/scenario/world.ts';
import { checkVariant, cli, removeTempDirs, tempDir } from './helpers.ts';

afterAll(removeTempDirs);

const variant = (id: string): Variant => {
  const v = findVariant(id);
  if (!v) throw new Error(`no variant ${id}`);
  return v;
};

describe('mm-reuse: a freed mm address handed to a new mm', () => {
  it('linux-4.14-asid-by-mm-address (ASID slots owned by mm address) is caught at 2 CPUs', () => {
    const r = checkVariant(variant('linux-4.14-asid-by-mm-address'), 'mm-reuse', 2);
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('no-dead-mm-translation');
    expect(r.violation?.message).toContain('in mmB');
    expect(r.violation?.message).toContain('for mmA');
  });

  it('linux-4.14 (slots owned by ctx_id) holds at 2 CPUs', () => {
    expect(checkVariant(variant('linux-4.14'), 'mm-reuse', 2).verdict).toBe('holds');
  });

  it('linux-6.18 (exit_mmap through the mm side) holds at 1 CPU', () => {
    expect(checkVariant(variant('linux-6.18'), 'mm-reuse', 1).verdict).toBe('holds');
  });
});

/** One execution (choice 0 everywhere) with its trace. */
function trace(v: string, s: string | Scenario, cpus: number): readonly TraceEvent[] {
  const vv = variant(v);
  const model = prepare({ variant: vv, scenario: typeof s === 'string' ? findScenario(s)! : s, params: { cpus }, features: vv.features, bounds: DEFAULT_BOUNDS });
  const d = driveTape(model, [], true);
  expect(d.violation).toBeUndefined();
  return d.trace!;
}

const writesTo = (t: readonly TraceEvent[], name: string): { row: number; val: number; fn: string }[] =>
  t.flatMap((e, row) => {
    const d = e.data;
    if ((d?.k === 'store' || d?.k === 'rmw') && d.at.name === name) return [{ row, val: d.k === 'store' ? d.val.v : Number.NaN, fn: e.fn }];
    return [];
  });

describe('the mm allocated at the freed address', () => {
  for (const v of ['linux-4.14', 'linux-6.18']) {
    it(`${v}: gets a ctx_id no mm had and tlb_gen 0, after its predecessor died once`, () => {
      const t = trace(v, 'mm-reuse', 1);
      const life = t.flatMap((e) => (e.data?.k === 'mm-life' ? [e.data] : []));
      expect(life.map((d) => `${d.mmName}:${d.alive ? 'alive' : 'freed'}`)).toEqual(['mmA:freed', 'mmB:alive']);
      const ctx = writesTo(t, 'mmA.ctx_id');
      expect(ctx).toHaveLength(1);
      // init_new_context() is static inline: its stores show in dup_mm.
      expect(ctx[0]!.fn).toBe('dup_mm');
      // Boot mms are init_mm 1, mmA 2, mmX 3: the counter hands out 4.
      expect(ctx[0]!.val).toBe(4);
      const gens = writesTo(t, 'mmA.tlb_gen');
      const reset = gens.find((w) => w.fn === 'dup_mm');
      expect(reset?.val).toBe(0);
      // exit_mmap's flush had bumped it before (a LOCK XADD), so the reset is visible.
      expect(gens.some((w) => w.row < reset!.row && Number.isNaN(w.val))).toBe(true);
    });
  }
});

describe('exec: exec_mmap switches to a new mm and the old one dies', () => {
  const file = readScenarioFile(join(import.meta.dirname, 'fixtures', 'exec-scenario.json'), 'exec-scenario.json');
  for (const v of ['linux-4.14', 'linux-6.18']) {
    it(`${v}: mmC allocated, activate_mm to it, mmA torn down (exit_mmap) and freed; it holds`, () => {
      const t = trace(v, file, 1);
      const life = t.flatMap((e) => (e.data?.k === 'mm-life' ? [`${e.data.mmName}:${e.data.alive ? 'alive' : 'freed'}`] : []));
      expect(life).toEqual(['mmC:alive', 'mmA:freed']);
      const fns = new Set(t.map((e) => e.fn));
      for (const fn of ['exec_mmap', 'mm_alloc', '__mmput', '__mmdrop']) expect(fns.has(fn), fn).toBe(true);
      // exit_mmap's own C (4.x common/mm.c) or the mm side's gather it runs (6.18 mm/mmap.c).
      expect(fns.has('exit_mmap') || fns.has('tlb_finish_mmu')).toBe(true);
      const freedPages = t.flatMap((e) => (e.data?.k === 'free-page' ? [e.data.pfn] : []));
      expect(freedPages.length).toBeGreaterThanOrEqual(3); // mmA's page, its PTE page, its pgd
      expect(checkVariant(variant(v), 'mm-reuse', 1).verdict).toBe('holds');
    });
  }
});

describe('no-dead-mm-translation judges by ghost mm generations', () => {
  const use = (mmGen: number, global = false): Extract<Observation, { o: 'use' }> => ({
    o: 'use',
    cpu: 0,
    va: 0x1000,
    mm: 1,
    step: 9,
    entry: { pcid: 2, vpn: 1, pfn: 4, global, writable: true, dirty: true, gen: 0, mmGen, rec: { upperLoc: 0, upperWid: 0, leafLoc: 0, leafWid: 0, step: 5 } },
  });
  const nameAt = (mm: number, gen: number): string => (gen >= 2 ? 'mmB' : `mm${mm}`);
  it('allows an entry of the mm that lives there now, and a global entry', () => {
    expect(checkDeadMmUse(use(2), [0, 2], 9, nameAt)).toBeUndefined();
    expect(checkDeadMmUse(use(0, true), [0, 2], 9, nameAt)).toBeUndefined();
  });
  it('breaks on an entry of a freed mm, and of the mm before a reuse of its address', () => {
    expect(checkDeadMmUse(use(0), [0, 1], 9, nameAt)?.message).toContain('since been freed');
    const v = checkDeadMmUse(use(0), [0, 2], 9, nameAt);
    expect(v?.invariant).toBe('no-dead-mm-translation');
    expect(v?.message).toContain('mmB allocated at its address');
    expect(v?.filledAt).toBe(5);
  });
});

const ROOT = join(import.meta.dirname, '..');
const MM_REUSE = JSON.parse(readFileSync(join(ROOT, 'scenarios', 'mm-reuse.json'), 'utf8')) as { setup: unknown[]; run: { program: unknown[] }[] } & Record<string, unknown>;

function userFile(json: unknown): string {
  const path = join(tempDir(), 'life.json');
  writeFileSync(path, JSON.stringify(json, null, 2));
  return path;
}

const oneLine = (s: string) => s.trim().split('\n').length === 1 && !/\bat .*\.ts:\d+/.test(s);

describe('scenario files with mm lifetimes', () => {
  it('a user copy of mm-reuse runs through check (the bug caught, 1 CPU)', async () => {
    const f = userFile({ ...MM_REUSE, id: 'my-mm-reuse' });
    const r = await cli('check', '--variant', 'linux-4.14-asid-by-mm-address', '--scenario', f, '--cpus', '1', '--out', tempDir());
    expect(r.code).toBe(1);
    expect(r.out).toContain('VIOLATED no-dead-mm-translation');
  });

  const bad: { what: string; edit: (j: typeof MM_REUSE) => unknown; says: RegExp }[] = [
    { what: 'fork of an mm alive at boot', edit: (j) => ({ ...j, run: [{ ...j.run[0], program: [{ op: 'fork', mm: 'mmX' }] }, j.run[1]] }), says: /mm 'mmX' is alive at boot; fork allocates an mm set up with "at" or "later"/ },
    { what: 'an mm at an undeclared address', edit: (j) => ({ ...j, setup: j.setup.map((s) => (JSON.stringify(s) === '{"mm":"mmB","at":"mmA"}' ? { mm: 'mmB', at: 'mmQ' } : s)) }), says: /at the address of 'mmQ'/ },
    { what: 'both at and later', edit: (j) => ({ ...j, setup: j.setup.map((s) => (JSON.stringify(s) === '{"mm":"mmB","at":"mmA"}' ? { mm: 'mmB', at: 'mmA', later: true } : s)) }), says: /either "at" or "later"/ },
    { what: 'a CPU starting on a later mm', edit: (j) => ({ ...j, run: [j.run[0], { ...j.run[1], start: { mode: 'user', mm: 'mmB' } }] }), says: /not alive at boot/ },
    { what: 'later: false', edit: (j) => ({ ...j, setup: [...j.setup, { mm: 'mmC', later: false }] }), says: /invalid scenario at setup\.\d+/ },
  ];
  for (const b of bad) {
    it(`refuses ${b.what} in one line`, async () => {
      const r = await cli('check', '--variant', 'linux-4.14', '--scenario', userFile(b.edit(MM_REUSE)));
      expect(r.code).toBe(2);
      expect(oneLine(r.err), r.err).toBe(true);
      expect(r.err).toMatch(b.says);
    });
  }
});
