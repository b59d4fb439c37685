/**
 * The call-function IPI handler is C (linux-6.18/smp.c's sysvec_call_function_single ->
 * __flush_smp_call_function_queue, common/smp-calls-4.9-4.20.c's
 * smp_call_function_single_interrupt -> flush_smp_call_function_queue): it is the code that
 * runs (a patch of it changes the verdict), a state in the middle of it holds a forked C
 * routine rather than a TypeScript generator, and it takes the steps of the TypeScript
 * handler it replaced (a variant that puts that one back gets the same counts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Model, Sim, prepare } from '../src/explore/engine.ts';
import { isCRun } from '../src/explore/frames.ts';
import { call_function_interrupt } from '../src/kernel/common/smp.ts';
import { findVariant } from '../src/kernel/index.ts';
import { derive } from '../src/kernel/variant.ts';
import { resolveCVariant } from '../src/kc/load-c.ts';
import { type CVariant, buildCVariant } from '../src/kc/variant.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { checkVariant, tempDir } from './helpers.ts';

async function cFile(text: string): Promise<CVariant> {
  const dir = tempDir();
  writeFileSync(join(dir, 'p.c'), text);
  return (await resolveCVariant('p.c', dir)).variant;
}

/** The queue flush of each generation, and how its function call is written there. */
const GENERATIONS = [
  { base: 'linux-4.13', flush: 'flush_smp_call_function_queue', doFunc: 'tlbcheck_csd_do_func', entry: 'call_function_single_interrupt' },
  { base: 'linux-6.18', flush: '__flush_smp_call_function_queue', doFunc: 'csd_do_func', entry: 'asm_sysvec_call_function_single' },
] as const;

/** A patch of the flush: `body` runs for each taken csd (csd, func, info in scope). */
const flushPatch = (g: (typeof GENERATIONS)[number], body: string): string => `/* tlbcheck: base=${g.base} */
static void ${g.flush}(bool warn_cpu_offline)
{
	call_single_data_t *csd;
	int i, n;

	n = tlbcheck_llist_taken();
	for (i = 0; i < n; i++) {
		smp_call_func_t func = tlbcheck_llist_func(i);
		void *info = tlbcheck_llist_info(i);

		csd = tlbcheck_llist_csd(i);
		${body}
	}
}
`;

describe('the IPI handler is C', () => {
  for (const g of GENERATIONS) {
    it(`${g.base}: the routine table runs the C entry ${g.entry}, not the TypeScript handler`, () => {
      const v = findVariant(g.base)!;
      expect(v.routines.call_function_interrupt).not.toBe(call_function_interrupt);
      expect((v as CVariant).program.fns.has(g.entry)).toBe(true);
    });

    it(`${g.base}: a handler that never releases the csd leaves the sender waiting (no-deadlock)`, async () => {
      const v = await cFile(flushPatch(g, `${g.doFunc}(func, info, csd);`));
      const r = checkVariant(v, 'switch-vs-flush', 2);
      expect(r.verdict).toBe('violated');
      expect(r.violation?.invariant).toBe('no-deadlock');
      expect(r.violation?.message).toMatch(/waits for cpu1 ran the call queued on csd\[cpu0->cpu1\]/);
    });

    it(`${g.base}: the patch that keeps the kernel's order (function, then unlock) holds where the early unlock does not`, async () => {
      const kept = await cFile(flushPatch(g, `${g.doFunc}(func, info, csd);\n\t\tcsd_unlock(csd);`));
      const early = await cFile(flushPatch(g, `csd_unlock(csd);\n\t\t${g.doFunc}(func, info, csd);`));
      const base = checkVariant(findVariant(g.base)!, 'lazy-free-pgtables', 2);
      const same = checkVariant(kept, 'lazy-free-pgtables', 2);
      expect(base.verdict).toBe('holds');
      expect([same.verdict, same.states, same.transitions]).toEqual([base.verdict, base.states, base.transitions]);
      // The sender sees the csd released, returns from its flush and frees the page table
      // while the target's paging-structure cache still holds the entry that points to it.
      const r = checkVariant(early, 'lazy-free-pgtables', 2);
      expect(r.verdict).toBe('violated');
      expect(r.violation?.invariant).toBe('no-walk-through-freed-table');
    });
  }

  it('the taken queue is only the handler\'s: reading it elsewhere is a one-line model error', async () => {
    const v = await cFile(`/* tlbcheck: base=linux-4.13 */
void enter_lazy_tlb(struct mm_struct *mm, struct task_struct *tsk)
{
	tlbcheck_llist_taken();
}
`);
    expect(() => checkVariant(v, 'idle-leave-mm', 2)).toThrow(/tlbcheck_llist_taken\(\): only the IPI handler has a taken call queue/);
  });
});

const modelOf = (variant: string, scenario: string, cpus: number): Model => {
  const v = findVariant(variant)!;
  return prepare({ variant: v, scenario: findScenario(scenario)!, params: { cpus }, features: v.features, bounds: DEFAULT_BOUNDS });
};

/** A state reached from the start in which some CPU is inside the handler's function call, found breadth-first. */
function midHandler(model: Model): { sim: Sim; cpu: number } {
  let layer = [Sim.start(model, false)];
  const seen = new Set<number>();
  while (layer.length > 0 && seen.size < 20000) {
    const next: Sim[] = [];
    for (const s of layer) {
      for (const mv of [...s.enabledMoves()]) {
        const t = s.clone();
        if (!t.apply(mv, undefined) || t.violation || seen.has(t.fingerprint())) continue;
        seen.add(t.fingerprint());
        for (let c = 0; c < t.frames.length; c++) {
          const fs = t.frames[c]!;
          const i = fs.findIndex((f) => f.id.startsWith('irq:'));
          if (i >= 0 && fs.length > i + 1) return { sim: t, cpu: c };
        }
        next.push(t);
      }
    }
    layer = next;
  }
  throw new Error('no state inside the handler');
}

describe('a state inside the handler is C data', () => {
  for (const g of GENERATIONS) {
    it(`${g.base}: the interrupt frame runs the C entry, a routine that a clone forks (same fingerprint, nothing replayed)`, () => {
      const { sim, cpu } = midHandler(modelOf(g.base, 'switch-vs-flush', 2));
      const fs = sim.frames[cpu]!;
      const i = fs.findIndex((f) => f.id.startsWith('irq:'));
      // The frame id still names the taken calls; it runs the C, above it the function the C called.
      expect(fs[i]!.id).toMatch(/^irq:0:flush_tlb_func/);
      expect(isCRun(fs[i]!.gen)).toBe(true);
      expect(fs[i]!.fns?.name).toBe(g.flush);
      expect(fs[i + 1]!.id).toMatch(/^sub:flush_tlb_func/);
      const copy = sim.clone();
      expect(isCRun(copy.frames[cpu]![i]!.gen)).toBe(true);
      expect(copy.fingerprint()).toBe(sim.fingerprint());
      // Both run on to the same states.
      for (let k = 0; k < 30; k++) {
        const a = sim.enabledMoves()[0];
        const b = copy.enabledMoves()[0];
        expect(b).toBe(a);
        if (a === undefined || !sim.apply(a, undefined) || !copy.apply(a, undefined)) break;
        expect(copy.fingerprint()).toBe(sim.fingerprint());
      }
    });
  }
});

describe('the TypeScript handler still works', () => {
  // A .ts variant that puts the TypeScript handler (common/smp.ts) back: it takes the same
  // steps as the C, so every count is the same.
  for (const g of GENERATIONS) {
    for (const scenario of ['switch-vs-flush', 'concurrent-flushes']) {
      it(`${g.base} with the TypeScript handler on ${scenario}: the C handler's verdict and counts`, () => {
        const base = findVariant(g.base)!;
        const ts = derive(base, { id: `${g.base}-ts-ipi`, title: 'TypeScript IPI handler', routines: { call_function_interrupt } });
        const a = checkVariant(base, scenario, 2);
        const b = checkVariant(ts, scenario, 2);
        expect([b.verdict, b.states, b.transitions, b.executions]).toEqual([a.verdict, a.states, a.transitions, a.executions]);
      });
    }
  }
});

describe('a C program without the handler keeps the TypeScript one', () => {
  it('linux-4.13 without common/smp-calls-4.9-4.20.c: the environment\'s TypeScript cross-calls and handler, with the C\'s counts', async () => {
    const base = findVariant('linux-4.13') as CVariant;
    const sources = base.spec.sources.filter((s) => !s.file.endsWith('common/smp-calls-4.9-4.20.c'));
    expect(sources.length).toBe(base.spec.sources.length - 1);
    const v = await buildCVariant({ ...base.spec, id: 'linux-4.13-no-smp-file', sources });
    expect(v.routines.call_function_interrupt).toBe(call_function_interrupt);
    const a = checkVariant(base, 'switch-vs-flush', 2);
    const b = checkVariant(v, 'switch-vs-flush', 2);
    expect([b.verdict, b.states, b.transitions]).toEqual([a.verdict, a.states, a.transitions]);
  });
});
