/**
 * What the mm-side scenarios (munmap-zap, madvise-race) share: the words the mm side's C
 * reads besides the x86 ones (the split PTE lock of each leaf table, `mm->tlb_flush_pending`,
 * `mm->tlb_flush_batched`), and the call of an mm entry point of the variant's C.
 */
import type { K, Routine } from '../kernel/fx.ts';
import type { MmInfo } from '../kernel/layout.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import type { Pfn } from '../machine/types.ts';
import type { World } from './world.ts';

/** The world with the mm side's shared words for `mms` and their leaf `tables`. */
export function withMmSide(w: World, mms: readonly MmInfo[], tables: readonly Pfn[]): World {
  const extraVars = [
    ...tables.map((t) => ({ name: `ptl@${t}`, owner: -1 })),
    ...mms.flatMap((m) => [
      { name: `${m.name}.tlb_flush_pending`, owner: -1 },
      { name: `${m.name}.tlb_flush_batched`, owner: -1 },
    ]),
  ];
  return { ...w, extraVars: [...(w.extraVars ?? []), ...extraVars] };
}

/** Run the C entry point `fn(mm, start, end)` of the variant's mm side. */
export function* mmCall(k: K<CoreRoutines>, fn: string, mm: MmInfo, start: number, end: number, more?: Readonly<Record<string, number>>): Routine {
  if (!k.r.mm_call) throw new Error('[tlbcheck bug] a scenario that requires mm_call ran on a variant without it');
  yield* k.r.mm_call(k, fn, mm.id, start, end, more);
}
