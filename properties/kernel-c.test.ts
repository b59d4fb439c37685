/**
 * Kernel C (issue 13): the built-in variants are C programs (every generation and bug variant),
 * the stored counterexamples replay on them, the front end's answers to
 * bad input, the preprocessor subset, liveness, whole kernel-style files with --base, and a C
 * patch checked from a directory outside the clone.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCounterexample, replay } from '../src/counterexample/counterexample.ts';
import { VARIANTS } from '../src/kernel/index.ts';
import { C_BUILTINS, cBuiltin, cBuiltinIds } from '../src/kc/builtins.ts';
import { resolveCVariant } from '../src/kc/load-c.ts';
import type { CVariant } from '../src/kc/variant.ts';
import { checkVariant, tempDir } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'tlbcheck.js');

const built = new Map<string, CVariant>();
beforeAll(async () => {
  for (const id of cBuiltinIds()) built.set(id, await cBuiltin(id)!);
});

/** Write `text` as a .c file in a fresh temp dir and load it as a variant. */
async function cFile(name: string, text: string): Promise<CVariant> {
  const dir = tempDir();
  writeFileSync(join(dir, name), text);
  return (await resolveCVariant(name, dir)).variant;
}

async function cError(text: string): Promise<string> {
  try {
    await cFile('p.c', text);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return 'no error';
}

describe('the built-in variants are C', () => {
  it('every built-in variant is a C program, and its expectations come from its file header', () => {
    expect(VARIANTS.length).toBe(C_BUILTINS.length);
    for (const v of VARIANTS) {
      const c = built.get(v.id);
      expect(c, v.id).toBeDefined();
      expect((v as CVariant).program, v.id).toBeDefined();
      const file = c!.spec.sources.at(-1)!.file;
      expect(C_BUILTINS.map((f) => `src/kernel/c/${f}`)).toContain(file);
      expect(v.expect.length, `${v.id}: a built-in with no expectation is checked by nothing`).toBeGreaterThan(0);
    }
  });

  it('no TypeScript kernel routine is left: src/kernel holds only glue (boot, scheduler, IPI entry, assembly entry paths)', () => {
    const glue = new Set([
      'common/asid.ts',
      'common/boot.ts',
      'common/boot-pcid.ts',
      'common/sched.ts',
      'common/smp.ts',
      'common/smp-cond.ts',
      'kaiser/entry.ts',
      'linux-4.15-pti/boot.ts',
      'linux-4.15-pti/entry.ts',
      'linux-4.15-pti/pcid.ts',
    ]);
    const dir = join(ROOT, 'src', 'kernel');
    const ts = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes('/') && f.endsWith('.ts'));
    expect(ts.filter((f) => !glue.has(f))).toEqual([]);
  });

  it('a bug variant is a small file of the functions it changes, over its base', () => {
    for (const v of VARIANTS.filter((x) => x.kind === 'bug')) {
      const c = built.get(v.id)!;
      expect(c.spec.sources.length, v.id).toBeGreaterThan(1);
      const own = [...c.program.origin].filter(([, f]) => f === c.spec.sources.at(-1)!.file).map(([n]) => n);
      expect(own.length, v.id).toBeGreaterThan(0);
      expect(own.length, v.id).toBeLessThan(c.program.fns.size);
    }
  });

  it('each stored counterexample of a C bug variant replays to its violation, and passes on the variant that fixes it', () => {
    const dir = join(ROOT, 'counterexamples');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      const ce = loadCounterexample(join(dir, f));
      const v = built.get(ce.variant)!;
      expect(v, f).toBeDefined();
      const out = replay(ce, v, true);
      expect(out.kind, f).toBe('violated');
      if (out.kind === 'violated') expect(out.violation.invariant).toBe(ce.invariant);
      if (v.fixedBy) expect(replay(ce, built.get(v.fixedBy)!, false).kind, f).not.toBe('violated');
    }
  });
});

describe('C front end: bad input is one line naming file, line and column', () => {
  const head = '/* tlbcheck: base=linux-4.13 */\n';
  it('an unsupported statement', async () => {
    expect(await cError(`${head}void leave_mm(int cpu)\n{\n\tgoto out;\nout:\n\treturn;\n}\n`)).toMatch(/^p\.c:4:2: goto statement is not supported \(/);
  });
  it('a call to a function neither in the C nor in the environment', async () => {
    expect(await cError(`${head}void leave_mm(int cpu)\n{\n\tfrobnicate(cpu);\n}\n`)).toMatch(/^p\.c:4:2: call to undefined function 'frobnicate'/);
  });
  it('an undefined name', async () => {
    expect(await cError(`${head}void leave_mm(int cpu)\n{\n\tint x = no_such_thing;\n}\n`)).toMatch(/^p\.c:4:10: 'no_such_thing' is not defined/);
  });
  it('a syntax error', async () => {
    expect(await cError(`${head}void leave_mm(int cpu)\n{\n\tif (cpu {\n}\n`)).toMatch(/^p\.c:\d+:\d+: syntax error/);
  });
  it('an unknown base', async () => {
    expect(await cError('/* tlbcheck: base=linux-9.9 */\nvoid f(void) {}\n')).toMatch(/base=linux-9\.9 is not a built-in variant \(generations: linux-4\.12, /);
  });
  it('a no-op listed by the variant is accepted, and the same call unlisted is not', async () => {
    const body = 'void enter_lazy_tlb(struct mm_struct *mm, struct task_struct *tsk)\n{\n\ttrace_lazy(mm);\n\tif (this_cpu_read(cpu_tlbstate.state) == TLBSTATE_OK)\n\t\tthis_cpu_write(cpu_tlbstate.state, TLBSTATE_LAZY);\n}\n';
    expect(await cError(`${head}${body}`)).toMatch(/undefined function 'trace_lazy'/);
    const v = await cFile('q.c', `/* tlbcheck: base=linux-4.13 noop=trace_lazy */\n${body}`);
    expect(checkVariant(v, 'lazy-flush', 2).verdict).toBe('holds');
  });
  it('the CLI exits 2 with the one line, no stack trace', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.c'), `${head}void leave_mm(int cpu)\n{\n\tswitch (cpu) { default: break; }\n}\n`);
    const r = spawnSync(process.execPath, [CLI, 'check', '--variant', './bad.c', '--scenario', 'switch-vs-flush'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^tlbcheck: \.\/bad\.c:4:2: switch statement is not supported \(.*\)$/);
  });
});

describe('C preprocessor subset', () => {
  // The 4.13 flush with its barrier under a config option: the option decides the verdict.
  const flush = (cfg: string): string => `/* tlbcheck: base=linux-4.13 ${cfg} */
#define SYNC_WITH_SWITCH_MM()	smp_mb()
#define flush_range(mm, info)	flush_tlb_others(mm_cpumask(mm), info)
void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, unsigned long vmflag)
{
	int cpu = get_cpu();
	struct flush_tlb_info info = { .mm = mm, .start = start, .end = end };

#if defined(CONFIG_X86_64) && IS_ENABLED(CONFIG_SYNC)
	SYNC_WITH_SWITCH_MM();
#elif 0
	this does not parse;
#else
	barrier();
#endif
#ifndef CONFIG_SYNC
	/* no barrier */
#endif
	if (mm == this_cpu_read(cpu_tlbstate.loaded_mm)) {
		local_irq_disable();
		flush_tlb_func_local(&info, TLB_LOCAL_MM_SHOOTDOWN);
		local_irq_enable();
	}
	if (cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids)
		flush_range(mm, &info);
	put_cpu();
}
`;
  it('#if/#elif/#else with defined() and IS_ENABLED(), object-like and function-like #define', async () => {
    const on = await cFile('on.c', flush('config=CONFIG_X86_64,CONFIG_SYNC'));
    const off = await cFile('off.c', flush('config=CONFIG_X86_64'));
    expect(checkVariant(on, 'switch-vs-flush', 2).verdict).toBe('holds');
    const r = checkVariant(off, 'switch-vs-flush', 2);
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('no-stale-tlb-use');
  });
});

describe('compiled calls are plain data', () => {
  it('liveness marks a local dead after its last use', async () => {
    const v = await cFile(
      'l.c',
      `/* tlbcheck: base=linux-4.13 */
void enter_lazy_tlb(struct mm_struct *mm, struct task_struct *tsk)
{
	int st = this_cpu_read(cpu_tlbstate.state);
	int ok = st == TLBSTATE_OK;

	smp_mb();
	if (ok)
		this_cpu_write(cpu_tlbstate.state, TLBSTATE_LAZY);
}
`,
    );
    const fn = v.program.fns.get('enter_lazy_tlb')!;
    const st = fn.locals.indexOf('st');
    const ok = fn.locals.indexOf('ok');
    const mbAt = fn.code.findIndex((o) => o.o === 'env' && o.name === 'smp_mb');
    const writeAt = fn.code.findIndex((o) => o.o === 'env' && o.name === 'this_cpu_write');
    // At smp_mb(), st is dead (only ok is read later); at the write, both are dead.
    expect(fn.dead[mbAt]).toContain(st);
    expect(fn.dead[mbAt]).not.toContain(ok);
    expect(fn.dead[writeAt]).toContain(ok);
    // The bytecode is data: it survives a structured clone unchanged.
    expect(structuredClone(fn.code)).toEqual(fn.code);
  });
});

describe('a whole kernel-style tlb.c without a tlbcheck header, with --base', () => {
  // Our own kernel-style text: the 4.13 functions, one function the base does not model, and
  // a helper that a modelled function calls.
  const base = readFileSync(join(ROOT, 'src/kernel/c/linux-4.13/tlb.c'), 'utf8').replace(/^\/\* tlbcheck:[\s\S]*?\*\/\n/, '');
  const file = base
    .replace('\tsmp_mb();\t/* (1) synchronize with switch_mm */', '\tsync_with_switch_mm();')
    .concat(
      '\nstatic void sync_with_switch_mm(void)\n{\n\tsmp_mb();\n}\n',
      '\nvoid flush_tlb_all(void)\n{\n\ton_each_cpu(do_flush_tlb_all, NULL, 1);\n}\n',
    )
    .replace('#define flush_tlb_others', '#include <asm/tlbflush.h>\n#define flush_tlb_others');
  it('takes the modelled functions and their callees, lists the rest, and checks them', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tlb.c'), file);
    const run = (extra: string[]) =>
      spawnSync(process.execPath, [CLI, 'check', '--variant', './tlb.c', '--scenario', 'switch-vs-flush', '--out', join(dir, 'out'), ...extra], { cwd: dir, encoding: 'utf8' });
    const ok = run(['--base', 'linux-4.13']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/took .*flush_tlb_mm_range.*sync_with_switch_mm|took .*sync_with_switch_mm.*flush_tlb_mm_range/);
    expect(ok.stdout).toMatch(/ignored flush_tlb_all\n/);
    expect(ok.stdout).toMatch(/HOLDS/);
    const none = run([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no \/\* tlbcheck: base=\.\.\. \*\/ header; for a whole kernel tlb\.c give --base/);
  });
  it('the same file with the barrier helper emptied is caught', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tlb.c'), file.replace('\tsmp_mb();\n}\n', '\tbarrier();\n}\n'));
    const r = spawnSync(process.execPath, [CLI, 'check', '--variant', './tlb.c', '--base', 'linux-4.13', '--scenario', 'switch-vs-flush', '--out', join(dir, 'out'), '--json'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(1);
    expect((JSON.parse(r.stdout) as { invariant: string }).invariant).toBe('no-stale-tlb-use');
  });
});

describe('a C patch from outside the clone', () => {
  it('examples/my-patch.c, copied to a temp dir, finds the seed-004 ordering bug', () => {
    const dir = tempDir();
    copyFileSync(join(ROOT, 'examples', 'my-patch.c'), join(dir, 'my-patch.c'));
    const r = spawnSync(process.execPath, [CLI, 'check', '--variant', './my-patch.c', '--scenario', 'switch-vs-flush', '--out', join(dir, 'out'), '--json'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(1);
    const j = JSON.parse(r.stdout) as { verdict: string; invariant: string };
    expect(j.verdict).toBe('violated');
    expect(j.invariant).toBe('no-stale-tlb-use');
  });
});
