/**
 * The 6.18 kernel's INVLPGB paths (arch/x86/mm/tlb.c broadcast_tlb_flush, finish_asid_transition;
 * asm/tlb.h): with `--features invlpgb` and an mm on a global ASID the flush goes by broadcast,
 * not IPIs; its correctness rests on TLBSYNC waiting (a machine whose TLBSYNC does not wait
 * breaks it) and, for a CPU still on its dynamic ASID, on finish_asid_transition's IPI; the
 * seeded bug variants are caught; and a scenario that needs the feature refuses to run
 * without it.
 */
import { describe, expect, it } from 'vitest';
import { search } from '../src/explore/check.ts';
import { prepare, runExecution } from '../src/explore/engine.ts';
import type { Strategy } from '../src/explore/strategy.ts';
import { findVariant } from '../src/kernel/index.ts';
import type { Variant } from '../src/kernel/variant.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { TlbsyncNoWaitMachine } from './broken-machines.ts';
import { checkVariant, cli } from './helpers.ts';

const variant = (id: string): Variant => {
  const v = findVariant(id);
  if (!v) throw new Error(`no variant ${id}`);
  return v;
};
const AMD = { invlpgb: true } as const;

/** The default execution (choice 0 everywhere): the flusher runs to its end first. */
function defaultTrace(id: string, scenario: string, cpus: number) {
  const model = prepare({ variant: variant(id), scenario: findScenario(scenario)!, params: { cpus }, features: { ...variant(id).features, ...AMD }, bounds: DEFAULT_BOUNDS });
  const zero: Strategy = { begin: () => {}, choose: () => 0 };
  return runExecution(model, zero, { trace: true }).trace!;
}

describe('linux-6.18 with INVLPGB', () => {
  it('flushes a global-ASID mm by INVLPGB and TLBSYNC, with no IPI', () => {
    const t = defaultTrace('linux-6.18', 'broadcast-flush', 2);
    expect(t.some((e) => e.text.startsWith('invlpgb va 0x1000 pcid 4') && e.fn === 'broadcast_tlb_flush')).toBe(true);
    expect(t.some((e) => e.text.startsWith('tlbsync') && e.fn === 'broadcast_tlb_flush')).toBe(true);
    expect(t.some((e) => e.actor === 'bcast' && e.cpu === 1)).toBe(true);
    expect(t.some((e) => e.text.includes('IPI'))).toBe(false);
  });

  it('IPIs the CPU still on its dynamic ASID (finish_asid_transition), which moves to the global ASID', () => {
    const t = defaultTrace('linux-6.18', 'broadcast-transition', 2);
    expect(t.some((e) => e.cpu === 0 && e.text.startsWith('queue flush_tlb_func') && e.text.includes('on cpu1 + IPI'))).toBe(true);
    expect(t.some((e) => e.cpu === 1 && e.fn === 'load_new_mm_cr3' && e.text.startsWith('mov cr3') && e.text.includes('pcid 4'))).toBe(true);
    // Without a straggler there is no IPI at all (the first test), so the IPI is the transition's.
  });

  it('holds on both scenarios at 2 and 3 CPUs', () => {
    for (const s of ['broadcast-flush', 'broadcast-transition']) {
      for (const c of [2, 3]) expect(checkVariant(variant('linux-6.18'), s, c, { features: AMD }).verdict, `${s} c${c}`).toBe('holds');
    }
  });

  it('relies on TLBSYNC waiting: on a machine whose TLBSYNC does not wait, the flush returns with a stale entry in use', () => {
    const v = variant('linux-6.18');
    const model = prepare({ variant: v, scenario: findScenario('broadcast-flush')!, params: { cpus: 2 }, features: { ...v.features, ...AMD }, bounds: DEFAULT_BOUNDS }, (i) => new TlbsyncNoWaitMachine(i));
    const r = search(model, { strategy: 'dfs', seed: 1 });
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('no-stale-tlb-use');
  });

  it('the seeded bug variants are caught: no TLBSYNC, no finish_asid_transition', () => {
    expect(checkVariant(variant('linux-6.18-broadcast-no-tlbsync'), 'broadcast-flush', 2, { features: AMD }).violation?.invariant).toBe('no-stale-tlb-use');
    expect(checkVariant(variant('linux-6.18-no-finish-asid-transition'), 'broadcast-transition', 2, { features: AMD }).violation?.invariant).toBe('no-stale-tlb-use');
    // The transition bug needs a straggler: with every CPU on the global ASID it holds.
    expect(checkVariant(variant('linux-6.18-no-finish-asid-transition'), 'broadcast-flush', 2, { features: AMD }).verdict).toBe('holds');
  });

  it('a scenario that needs INVLPGB is bad input without it (exit 2, one line)', async () => {
    const r = await cli('check', '--variant', 'linux-6.18', '--scenario', 'broadcast-flush');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe("tlbcheck: scenario 'broadcast-flush' needs the machine feature(s) invlpgb (add --features invlpgb)");
  });
});
