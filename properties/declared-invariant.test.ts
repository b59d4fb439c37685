/**
 * Open invariants: a variant declares `invariant=name:function` in its tlbcheck header, a C
 * predicate checked on every CPU after every step that may only read (memory as all CPUs agree
 * on it, and the tlbcheck_* accessors of the machine and the ghost). The real case: 6.17's
 * switch_mm_irqs_off without smp_mb() (fixed by 83b0177a6c48) is caught by tlb-gen-caught-up
 * when the switch finishes, a step before the stale translation is used; 6.18 holds.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCounterexample, replay } from '../src/counterexample/counterexample.ts';
import { prepare } from '../src/explore/engine.ts';
import { cBuiltin } from '../src/kc/builtins.ts';
import { resolveCVariant } from '../src/kc/load-c.ts';
import { explain } from '../src/report/explain/index.ts';
import { findScenario } from '../src/scenario/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { checkVariant, tempDir } from './helpers.ts';

async function cFile(name: string, text: string) {
  const dir = tempDir();
  writeFileSync(join(dir, name), text);
  return (await resolveCVariant(name, dir)).variant;
}

describe('a variant-declared invariant', () => {
  it('catches 6.17 switch_mm_irqs_off without smp_mb() (83b0177a6c48) before the stale use, and replays', async () => {
    const bug = await cBuiltin('linux-6.17-switch-no-mb-gen-checked')!;
    expect(bug.invariants).toEqual([{ name: 'tlb-gen-caught-up', fn: 'tlb_gen_caught_up' }]);
    const r = checkVariant(bug, 'switch-vs-flush', 2);
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('tlb-gen-caught-up');
    // Without the declared invariant the same bug is only seen at the stale use, a step later.
    const plain = checkVariant((await cBuiltin('linux-6.17-switch-no-mb'))!, 'switch-vs-flush', 2);
    expect(plain.violation?.invariant).toBe('no-stale-tlb-use');
    const model = prepare({ variant: bug, scenario: findScenario('switch-vs-flush')!, params: { cpus: 2 }, features: bug.features, bounds: DEFAULT_BOUNDS });
    const ce = buildCounterexample(model, { violation: r.violation!, tape: r.tape!, widths: r.widths!, strategy: 'dfs', seed: 0 });
    const again = replay(ce, bug, true);
    expect(again.kind).toBe('violated');
    if (again.kind !== 'violated') return;
    expect(again.violation.invariant).toBe('tlb-gen-caught-up');
    const why = explain(again.trace, again.violation).text;
    expect(why).toContain('tlb_gen_caught_up() of tlb-gen-caught-up was false on cpu1');
    expect(why).toMatch(/mmA\.tlb_gen = 1, written by cpu0's flush_tlb_mm_range at step \d+/);
    expect(why).toContain('a flush of mmA is not in flight');
    // On the fix the same tape no longer breaks it.
    const fix = (await cBuiltin('linux-6.18-gen-checked'))!;
    expect(replay(ce, fix, false).kind).not.toBe('violated');
  });

  it('holds on the fix (linux-6.18 with the invariant declared)', async () => {
    const fix = (await cBuiltin('linux-6.18-gen-checked'))!;
    for (const s of ['switch-vs-flush', 'lazy-flush']) expect(checkVariant(fix, s, 2).verdict, s).toBe('holds');
  });

  it('a user variant declares its own invariant, with the machine accessors', async () => {
    // "No CPU's CR3 holds the mm of cpu1's user thread": false at once (cpu1 runs mmB), and the
    // report lists what the accessors answered.
    const v = await cFile(
      'never-a.c',
      `/* tlbcheck: base=linux-4.13 id=never-a invariant=never-a:never_a */
static bool never_a(void)
{
	return tlbcheck_cr3_mm(smp_processor_id()) != tlbcheck_user_mm(1) || !tlbcheck_user_mm(1);
}
`,
    );
    const r = checkVariant(v, 'switch-vs-flush', 2);
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('never-a');
    expect(r.violation?.message).toContain('cr3 of cpu1 holds mmB, a user thread of mmB runs on cpu1');
  });

  it("a variant's own per-CPU variable (DEFINE_PER_CPU) and mm_struct field (mm-fields=) are state its invariant reads", async () => {
    const text = (inv: string, fn: string, body: string) => `/* tlbcheck: base=linux-4.13 id=${inv} mm-fields=lazy_users invariant=${inv}:${fn} */
DEFINE_PER_CPU(int, lazy_entries);

void enter_lazy_tlb(struct mm_struct *mm, struct task_struct *tsk)
{
	this_cpu_write(lazy_entries, this_cpu_read(lazy_entries) + 1);
	WRITE_ONCE(mm->lazy_users, READ_ONCE(mm->lazy_users) + 1);
	if (this_cpu_read(cpu_tlbstate.state) == TLBSTATE_OK)
		this_cpu_write(cpu_tlbstate.state, TLBSTATE_LAZY);
}

static bool ${fn}(void)
{
${body}
}
`;
    const once = await cFile('once.c', text('lazy-once', 'lazy_once', '\treturn this_cpu_read(lazy_entries) <= 1;'));
    expect(once.extraState).toEqual({ pcpu: ['lazy_entries'], mm: ['lazy_users'] });
    expect(checkVariant(once, 'lazy-flush', 2).verdict).toBe('holds');
    const never = await cFile('never.c', text('never-lazy', 'never_lazy', '\treturn this_cpu_read(lazy_entries) == 0;'));
    const r1 = checkVariant(never, 'lazy-flush', 2);
    expect(r1.violation?.invariant).toBe('never-lazy');
    expect(r1.violation?.message).toContain('cpu1.lazy_entries = 1');
    const mmv = await cFile(
      'mm.c',
      text('no-lazy-user', 'no_lazy_user', '\tstruct mm_struct *mm = this_cpu_read(cpu_tlbstate.loaded_mm);\n\n\treturn READ_ONCE(mm->lazy_users) == 0;'),
    );
    const model = prepare({ variant: mmv, scenario: findScenario('lazy-flush')!, params: { cpus: 2 }, features: mmv.features, bounds: DEFAULT_BOUNDS });
    const r2 = checkVariant(mmv, 'lazy-flush', 2);
    expect(r2.violation?.invariant).toBe('no-lazy-user');
    const ce = buildCounterexample(model, { violation: r2.violation!, tape: r2.tape!, widths: r2.widths!, strategy: 'dfs', seed: 0 });
    const again = replay(ce, mmv, true);
    expect(again.kind).toBe('violated');
    if (again.kind === 'violated') expect(explain(again.trace, again.violation).text).toMatch(/mmA\.lazy_users = 1, written by cpu1's enter_lazy_tlb at step \d+/);
  });

  it('a predicate that writes is a model error; a bad declaration is one line', async () => {
    const w = await cFile(
      'writes.c',
      `/* tlbcheck: base=linux-4.13 id=writes invariant=writes:w */
static bool w(void)
{
	this_cpu_write(cpu_tlbstate.state, 1);
	return true;
}
`,
    );
    expect(() => checkVariant(w, 'switch-vs-flush', 2)).toThrow(/may only read, but it made a 'store' effect/);
    await expect(cFile('bad.c', `/* tlbcheck: base=linux-4.13 id=bad invariant=Bad */\n`)).rejects.toThrow(/bad invariant 'Bad' \(name:function/);
    await expect(cFile('missing.c', `/* tlbcheck: base=linux-4.13 id=missing invariant=m:nope */\n`)).rejects.toThrow(/invariant m names nope\(\), which the program does not define/);
  });
});
