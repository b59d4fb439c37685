/**
 * The command contract: exit codes, one-line errors for bad input (never a stack trace), the
 * JSON fields, user variant files, and the verdicts of the two bug variants through the CLI.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sealCounterexample } from '../src/counterexample/counterexample.ts';
import type { CounterexampleFile } from '../src/counterexample/schema.ts';
import { cli, tempDir } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const CE_DIR = join(ROOT, 'counterexamples');
const oneLine = (s: string) => s.trim().split('\n').length === 1 && !/\n\s+at /.test(s);

describe('tlbcheck check', () => {
  for (const variant of ['linux-4.13-flush-no-mb', 'linux-4.13-cr3-before-cpumask']) {
    it(`${variant} is violated on switch-vs-flush (exit 1) and leaves a counterexample that replays`, async () => {
      const out = tempDir();
      const r = await cli('check', '--variant', variant, '--scenario', 'switch-vs-flush', '--out', out, '--json');
      expect(r.code).toBe(1);
      const j = JSON.parse(r.out) as Record<string, unknown>;
      for (const k of ['verdict', 'variant', 'scenario', 'invariant', 'strategy', 'seed', 'executions', 'steps', 'elapsedMs', 'counterexample']) {
        expect(j).toHaveProperty(k);
      }
      expect(j['verdict']).toBe('violated');
      expect(j['invariant']).toBe('no-stale-tlb-use');
      const rep = await cli('replay', String(j['counterexample']));
      expect(rep.code).toBe(1);
      expect(rep.out).toContain('still violated: no-stale-tlb-use');
      expect(rep.out).toMatch(/cpu0 +\| cpu1/);
    });
  }

  it('linux-4.13 holds on switch-vs-flush (exit 0) and names its bounds', async () => {
    const r = await cli('check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^HOLDS/m);
    expect(r.out).toContain('walks unbounded');
    expect(r.out).toContain('sb-depth<=2');
  });

  it('random search names its seed and is reproducible', async () => {
    const a = await cli('check', '--variant', 'linux-4.13-flush-no-mb', '--scenario', 'switch-vs-flush', '--strategy', 'random', '--seed', '7', '--out', tempDir(), '--json');
    const b = await cli('check', '--variant', 'linux-4.13-flush-no-mb', '--scenario', 'switch-vs-flush', '--strategy', 'random', '--seed', '7', '--out', tempDir(), '--json');
    const ja = JSON.parse(a.out) as { seed: number; executions: number; message: string };
    const jb = JSON.parse(b.out) as { seed: number; executions: number; message: string };
    expect(a.code).toBe(1);
    expect(ja.seed).toBe(7);
    expect([jb.executions, jb.message]).toEqual([ja.executions, ja.message]);
  });

  it('an execution budget that runs out before the search completes is inconclusive (exit 3)', async () => {
    const r = await cli('check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--stateless', '--max-executions', '3');
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^INCONCLUSIVE/m);
  });

  it('--strategy dpor prints its counts as JSON, saves a replayable counterexample, and refuses a preemption bound', async () => {
    const out = tempDir();
    const held = await cli('check', '--variant', 'linux-4.13', '--scenario', 'lazy-free-pgtables', '--strategy', 'dpor', '--json');
    expect(held.code).toBe(0);
    const j = JSON.parse(held.out) as { verdict: string; executions: number; sleepBlocked: number; races: number };
    expect(j.verdict).toBe('holds');
    expect(j.executions).toBeGreaterThan(1);
    expect(j.sleepBlocked).toBeTypeOf('number');
    expect(j.races).toBeGreaterThan(0);
    const bug = await cli('check', '--variant', 'linux-4.13-cr3-before-cpumask', '--scenario', 'switch-vs-flush', '--strategy', 'dpor', '--out', out, '--json');
    expect(bug.code).toBe(1);
    const ce = (JSON.parse(bug.out) as { counterexample: string }).counterexample;
    const replay = await cli('replay', ce);
    expect(replay.code).toBe(1);
    expect(replay.out).toMatch(/still violated: no-stale-tlb-use/);
    const bad = await cli('check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--strategy', 'dpor', '--preemptions', '2');
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    expect(bad.err).toMatch(/dpor takes no preemption bound/);
  });

  it('--features overrides the variant\'s machine: kaiser-invpcid #UDs without INVPCID and holds with it', async () => {
    const out = tempDir();
    const bad = await cli('check', '--variant', 'kaiser-invpcid', '--scenario', 'pti-return-to-user', '--features', 'pcid,-invpcid,pti', '--out', out, '--json');
    expect(bad.code).toBe(1);
    const jb = JSON.parse(bad.out) as { invariant: string; features: Record<string, boolean> };
    expect(jb.invariant).toBe('no-cpu-fault');
    expect(jb.features).toEqual({ pcid: true, invpcid: false, pge: false, pti: true });
    const good = await cli('check', '--variant', 'kaiser-invpcid', '--scenario', 'pti-return-to-user', '--features', '+invpcid', '--json');
    expect(good.code).toBe(0);
    expect((JSON.parse(good.out) as { features: Record<string, boolean> }).features.invpcid).toBe(true);
    const off = await cli('check', '--variant', 'linux-4.15-pti', '--scenario', 'kernel-range-flush', '--features', '-pcid');
    expect(off.err).toMatch(/invpcid needs pcid/);
    expect(off.code).toBe(2);
  });

  it('a user variant file is checked with --variant ./patch.c', async () => {
    const r = await cli('check', '--variant', join(ROOT, 'examples', 'my-patch.c'), '--scenario', 'switch-vs-flush', '--out', tempDir());
    expect(r.code).toBe(1);
    expect(r.out).toContain('no-stale-tlb-use');
  });

  it('a user variant counterexample records its file relative to itself and replays with --variant', async () => {
    const out = tempDir();
    const r = await cli('check', '--variant', join(ROOT, 'examples', 'my-patch.c'), '--scenario', 'switch-vs-flush', '--out', out, '--json');
    const path = String((JSON.parse(r.out) as { counterexample: string }).counterexample);
    const ce = JSON.parse(readFileSync(path, 'utf8')) as { variantPath: string };
    expect(ce.variantPath.startsWith('/')).toBe(false);
    expect((await cli('replay', path, '--variant', join(ROOT, 'examples', 'my-patch.c'))).code).toBe(1);
  });
});

describe('bad input: one line, exit 2, no stack trace', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown variant', ['check', '--variant', 'linux-9.99', '--scenario', 'switch-vs-flush'], /unknown variant 'linux-9.99'/],
    ['missing variant file', ['check', '--variant', './nope.ts', '--scenario', 'switch-vs-flush'], /variant file not found/],
    ['unknown scenario', ['check', '--variant', 'linux-4.13', '--scenario', 'nope'], /unknown scenario 'nope'/],
    ['bad --cpus', ['check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--cpus', 'two'], /whole number/],
    ['--cpus out of range', ['check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--cpus', '7'], /out of range/],
    ['unknown feature', ['check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--features', 'pcid,warp'], /unknown feature 'warp'/],
    ['unknown flag', ['check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--frobnicate'], /unknown option/],
    ['missing required option', ['check', '--scenario', 'switch-vs-flush'], /required option '--variant/],
    ['bad strategy', ['check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--strategy', 'nope'], /Allowed choices/],
    ['missing replay file', ['replay', 'nope.json'], /not found/],
  ];
  for (const [what, argv, msg] of cases) {
    it(what, async () => {
      const r = await cli(...argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      expect(oneLine(r.err)).toBe(true);
    });
  }

  it('malformed JSON, an unknown schema and an invalid file each get one line', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'bad.json'), '{ nope');
    writeFileSync(join(d, 'v9.json'), JSON.stringify({ schema: 'tlbcheck-counterexample/9' }));
    writeFileSync(join(d, 'inv.json'), JSON.stringify({ schema: 'tlbcheck-counterexample/1', tape: 'x' }));
    for (const [f, msg] of [['bad.json', /malformed JSON/], ['v9.json', /unknown schema/], ['inv.json', /invalid counterexample/]] as const) {
      const r = await cli('replay', join(d, f));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      expect(oneLine(r.err)).toBe(true);
    }
  });

  it('a tape that does not fit is "diverged at step K" (exit 3); a trace the model no longer makes is a digest mismatch (exit 3); an unsealed edit is tampered (exit 2)', async () => {
    const d = tempDir();
    const name = readdirSync(CE_DIR).find((f) => f.endsWith('.json'))!;
    const ce = JSON.parse(readFileSync(join(CE_DIR, name), 'utf8')) as CounterexampleFile;
    // Re-sealed edits are consistent files: what replay reports is about the model.
    writeFileSync(join(d, 'tape.json'), JSON.stringify(sealCounterexample({ ...ce, tape: ce.tape.map(() => 7) })));
    const t = await cli('replay', join(d, 'tape.json'));
    expect(t.code).toBe(3);
    expect(t.out).toMatch(/diverged at step \d+/);
    // The trace digest (schema 4) is over the events' data: a changed store-buffer depth is a different trace.
    const trace = ce.trace.map((e, i) => (i === 0 ? { ...e, data: { ...e.data!, sb: e.data!.sb + 7 } } : e));
    writeFileSync(join(d, 'digest.json'), JSON.stringify(sealCounterexample({ ...ce, trace })));
    const g = await cli('replay', join(d, 'digest.json'));
    expect(g.code).toBe(3);
    expect(g.err).toMatch(/digest mismatch.*the model changed since it was saved/);
    writeFileSync(join(d, 'zero.json'), JSON.stringify({ ...ce, digest: `sha256:${'0'.repeat(64)}` }));
    const z = await cli('replay', join(d, 'zero.json'));
    expect(z.code).toBe(2);
    expect(z.err).toMatch(/tampered/);
  });

  it('output into a closed pipe ends quietly (no EPIPE stack trace)', () => {
    const ce = join(CE_DIR, readdirSync(CE_DIR).find((f) => f.endsWith('.json'))!);
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${join(ROOT, 'bin', 'tlbcheck.js')}" replay "${ce}" | head -1 >/dev/null`], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/EPIPE|\s+at /);
  });

  it('the real binary prints no stack trace and exits 2 on a bad flag', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'tlbcheck.js'), 'check', '--variant', 'nope', '--scenario', 'x'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\s+at /);
  });
});

describe('tlbcheck list and replay --variant', () => {
  it('list --json has variants, scenarios and invariants with expectations', async () => {
    const r = await cli('list', '--json');
    const j = JSON.parse(r.out) as { variants: { id: string; expect: unknown[] }[]; scenarios: { id: string }[]; invariants: { id: string }[] };
    expect(j.variants.map((v) => v.id)).toEqual(expect.arrayContaining(['linux-4.12', 'linux-4.13', 'linux-4.13-flush-no-mb', 'linux-4.13-cr3-before-cpumask']));
    expect(j.scenarios.map((s) => s.id)).toEqual(expect.arrayContaining(['switch-vs-flush', 'lazy-flush']));
    expect(j.invariants.map((i) => i.id)).toEqual(expect.arrayContaining(['no-stale-tlb-use', 'no-walk-through-freed-table']));
    expect(j.variants.every((v) => v.expect.length > 0)).toBe(true);
  });

  it('replay --variant runs the tape on another variant', async () => {
    const d = tempDir();
    const f = join(d, 'ce.json');
    copyFileSync(join(CE_DIR, 'linux-4.13-flush-no-mb--switch-vs-flush-c2--no-stale-tlb-use.json'), f);
    const r = await cli('replay', f, '--variant', 'linux-4.13');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/passes/);
  });

  it('replay --variant aligns a routine that moved a step: cr3-before-cpumask passes on linux-4.13, naming the first difference', async () => {
    const f = join(CE_DIR, 'linux-4.13-cr3-before-cpumask--switch-vs-flush-c2--no-stale-tlb-use.json');
    const r = await cli('replay', f, '--variant', 'linux-4.13');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^passes/m);
    expect(r.out).toMatch(/first difference at step \d+: cpu1 switch_mm_irqs_off/);
    const j = JSON.parse((await cli('replay', f, '--variant', 'linux-4.13', '--json')).out) as { outcome: string; firstDifference: { step: number } };
    expect(j.outcome).toBe('passes');
    expect(j.firstDifference.step).toBeGreaterThan(0);
  });
});
