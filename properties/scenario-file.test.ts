/**
 * Scenario files (tlbcheck-scenario/1): a file written outside the clone runs through check,
 * gate and replay (its content sealed in the counterexample); the `invariants` field limits
 * what is checked; bad files are one line and exit 2. Small bounds: 2 CPUs.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, removeTempDirs, tempDir } from './helpers.ts';

afterAll(removeTempDirs);

const ROOT = join(import.meta.dirname, '..');
const EXAMPLE = JSON.parse(readFileSync(join(ROOT, 'examples', 'my-scenario.json'), 'utf8')) as Record<string, unknown>;

/** A user's scenario file in a fresh temp dir (outside the clone). */
function userFile(json: unknown, name = 'my-scenario.json'): string {
  const path = join(tempDir(), name);
  writeFileSync(path, typeof json === 'string' ? json : JSON.stringify(json, null, 2));
  return path;
}

const oneLine = (s: string) => s.trim().split('\n').length === 1 && !/\bat .*\.ts:\d+/.test(s);

describe('a scenario file outside the clone', () => {
  it('runs through check: the base holds, a bug variant is caught', async () => {
    const f = userFile(EXAMPLE);
    const ok = await cli('check', '--variant', 'linux-4.13', '--scenario', f, '--out', tempDir());
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain('linux-4.13 on idle-leave-mm (cpus 2');
    expect(ok.out).toContain('HOLDS');
    const bad = await cli('check', '--variant', 'linux-4.13-flush-no-mb', '--scenario', f, '--out', tempDir());
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('VIOLATED no-stale-tlb-use');
  });

  it('runs through gate --scenario FILE (its expect lines, or the given variants)', async () => {
    const f = userFile(EXAMPLE);
    const all = await cli('gate', '--scenario', f, '--out', tempDir());
    expect(all.code, all.out).toBe(0);
    expect(all.out).toContain('2/2 rows as expected');
    const one = await cli('gate', '--scenario', f, '--variant', 'linux-4.13-cr3-before-cpumask', '--out', tempDir());
    expect(one.code).toBe(0);
    expect(one.out).toContain('1/1 rows as expected');
    // A variant the file says nothing of is expected to hold: a bug variant then fails the gate.
    const miss = await cli('gate', '--scenario', f, '--variant', 'linux-4.13-flush-no-mb', '--out', tempDir());
    expect(miss.code).toBe(1);
    expect(miss.out).toContain('expected holds, got violates no-stale-tlb-use');
  });

  it('replays without the file (sealed), and refuses a file that changed', async () => {
    const f = userFile(EXAMPLE);
    const out = tempDir();
    expect((await cli('check', '--variant', 'linux-4.13-cr3-before-cpumask', '--scenario', f, '--out', out)).code).toBe(1);
    const ce = join(out, readdirSync(out).find((n) => n.endsWith('.json'))!);
    expect(JSON.parse(readFileSync(ce, 'utf8')).scenarioFile).toEqual(EXAMPLE);
    const same = await cli('replay', ce, '--scenario', f);
    expect(same.code, same.err).toBe(1);
    rmSync(f);
    const r = await cli('replay', ce);
    expect(r.code, r.err).toBe(1); // reproduces its violation
    expect(r.out).toContain('on idle-leave-mm');
    expect(r.out).toContain('no-stale-tlb-use');
    const changed = userFile({ ...EXAMPLE, title: 'edited' });
    const refused = await cli('replay', ce, '--scenario', changed);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/differs from the scenario 'idle-leave-mm' sealed in/);
    expect(oneLine(refused.err)).toBe(true);
    const builtin = await cli('replay', ce, '--scenario', 'lazy-flush');
    expect(builtin.code).toBe(2);
  });

  it('fuzz --scenario FILE fuzzes the choice tapes of that scenario', async () => {
    const f = userFile(EXAMPLE);
    const r = await cli('fuzz', '--variant', 'linux-4.13-flush-no-mb', '--scenario', f, '--runs', '200', '--out', tempDir());
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toContain('VIOLATED no-stale-tlb-use');
  });
});

describe('scenario fields', () => {
  it('invariants: only the named ones are checked', async () => {
    const f = userFile({ ...EXAMPLE, invariants: ['no-walk-through-freed-table'] });
    const r = await cli('check', '--variant', 'linux-4.13-cr3-before-cpumask', '--scenario', f, '--out', tempDir());
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('HOLDS');
  });

  it('list --json shows each built-in scenario with its parameters and invariants', async () => {
    const r = await cli('list', '--json');
    const c = JSON.parse(r.out) as { scenarios: { id: string; cpus: unknown; invariants: string[]; params: string; mms?: unknown }[] };
    const a = c.scenarios.find((s) => s.id === 'asid-reuse')!;
    expect(a.cpus).toEqual({ min: 2, max: 4, default: 2 });
    expect(a.mms).toMatchObject({ min: 2, max: 4, default: 3 });
    expect(a.invariants).toContain('no-stale-tlb-use');
    expect(a.params).toContain('mms 2-4');
  });

  it('a call step reaches the C function by name, and a parameter it lacks is refused', async () => {
    const prog = (EXAMPLE['run'] as { program: unknown[] }[])[1]!.program;
    const wrongArg = JSON.parse(JSON.stringify(EXAMPLE).replace('"cpu":"this_cpu"', '"cpux":"this_cpu"'));
    const r = await cli('check', '--variant', 'linux-4.13', '--scenario', userFile(wrongArg), '--out', tempDir());
    expect(r.code).toBe(2);
    expect(r.err).toContain('passes cpux to leave_mm(), whose parameters are (cpu)');
    expect(prog.length).toBeGreaterThan(0);
  });
});

describe('bad scenario files: one line, exit 2', () => {
  const cases: [string, () => string, RegExp, string[]?][] = [
    ['missing', () => join(tempDir(), 'nope.json'), /scenario file not found: /],
    ['malformed JSON', () => userFile('{ "schema": '), /malformed JSON/],
    ['not a scenario', () => userFile({ schema: 'tlbcheck-counterexample/2' }), /not a scenario file/],
    ['schema error', () => userFile({ ...EXAMPLE, cpus: { min: 2, max: 9, default: 2 } }), /invalid scenario at cpus.max/],
    ['unknown step', () => userFile(JSON.parse(JSON.stringify(EXAMPLE).replace('"op":"user_access"', '"op":"user_acess"'))), /invalid scenario at run\.1\.program/],
    ['unknown mm', () => userFile(JSON.parse(JSON.stringify(EXAMPLE).replace('"next":"mmA"', '"next":"mmQ"'))), /names mm 'mmQ', which setup does not declare/],
    ['unknown page', () => userFile(JSON.parse(JSON.stringify(EXAMPLE).replace('"mm":"mmA","va":"0x1000","page":"new"', '"mm":"mmA","va":"0x1000","page":"newer"'))), /names page 'newer'/],
    ['unknown function', () => userFile(JSON.parse(JSON.stringify(EXAMPLE).replace('"fn":"leave_mm"', '"fn":"leave_all"'))), /calls leave_all\(\), which variant linux-4.13 does not define/],
    ['cpus out of range', () => userFile(EXAMPLE), /--cpus 4 is out of range for idle-leave-mm \(2-3\)/, ['--cpus', '4']],
    ['a CPU no run entry covers', () => userFile(JSON.parse(JSON.stringify(EXAMPLE).replace('"on":"cpu1.."', '"on":"cpu1"'))), /with 3 cpus, no run entry covers cpu2/],
    ['unknown invariant', () => userFile({ ...EXAMPLE, invariants: ['no-such'] }), /unknown invariant 'no-such'/],
  ];
  for (const [name, make, msg, extra] of cases) {
    it(name, async () => {
      const r = await cli('check', '--variant', 'linux-4.13', '--scenario', make(), ...(extra ?? []), '--out', tempDir());
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      expect(oneLine(r.err)).toBe(true);
    });
  }
  it('a variant without the C function: gate and fuzz refuse too', async () => {
    const f = userFile(EXAMPLE);
    const g = await cli('gate', '--scenario', f, '--variant', 'linux-4.14', '--out', tempDir());
    expect(g.code).toBe(2);
    expect(g.err).toMatch(/calls leave_mm\(\), which variant linux-4.14 does not define/);
    const z = await cli('fuzz', '--variant', 'linux-4.14', '--scenario', f, '--runs', '5', '--out', tempDir());
    expect(z.code).toBe(2);
    expect(z.err).toMatch(/calls leave_mm\(\), which variant linux-4.14 does not define/);
  });
});
