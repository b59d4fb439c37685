/**
 * fast-check arbitraries for generated scenarios and choice tapes. Scenarios are plain data
 * (`GeneratedSpec`), so fast-check shrinks them structurally: fewer CPUs, fewer operations,
 * simpler start states, lower mm indices. Operations the variant has no routine for (kernel
 * range flush, PASID update) are only generated where it has them. Tapes lean toward 0, the
 * default choice, so shrinking toward the all-default tape is short.
 */
import fc from 'fast-check';
import type { CoreRoutines } from '../kernel/variant.ts';
import type { CpuSpec, GeneratedSpec, Op } from '../scenario/generated.ts';

/** Two mms are enough for every switch/flush hazard; specs may name up to MAX_MMS. */
const MMS = 2;

export function opArb(routines: CoreRoutines): fc.Arbitrary<Op> {
  const mm = fc.nat({ max: MMS - 1 });
  const arbs: fc.Arbitrary<Op>[] = [
    mm.map((m): Op => ({ op: 'switch', mm: m })),
    fc.constant<Op>({ op: 'lazy' }),
    fc.constant<Op>({ op: 'access' }),
    mm.map((m): Op => ({ op: 'unmap', mm: m })),
    mm.map((m): Op => ({ op: 'mprotect', mm: m })),
    mm.map((m): Op => ({ op: 'free-pgtables', mm: m })),
  ];
  if (routines.flush_tlb_kernel_range) arbs.push(fc.constant<Op>({ op: 'kernel-flush' }));
  if (routines.update_mm_pasid) arbs.push(fc.record({ op: fc.constant('pasid' as const), mm, val: fc.integer({ min: 1, max: 3 }) }));
  return fc.oneof(...arbs);
}

export function cpuArb(routines: CoreRoutines, maxOps = 4): fc.Arbitrary<CpuSpec> {
  return fc.record({
    start: fc.constantFrom('idle' as const, 'user' as const, 'lazy' as const),
    mm: fc.nat({ max: MMS - 1 }),
    ops: fc.array(opArb(routines), { maxLength: maxOps }),
  });
}

export function specArb(routines: CoreRoutines, maxCpus = 3): fc.Arbitrary<GeneratedSpec> {
  return fc.record({
    mms: fc.integer({ min: 1, max: MMS }),
    cpus: fc.array(cpuArb(routines), { minLength: 1, maxLength: maxCpus }),
  });
}

/** Choice tapes: mostly 0 (keep running), sometimes another move; read modulo the width. */
export function tapeArb(maxLength = 40): fc.Arbitrary<number[]> {
  return fc.array(fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.nat({ max: 7 }), weight: 2 }), { maxLength });
}
