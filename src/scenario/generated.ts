/**
 * Generated scenarios: a world described by plain data (how many mms, each CPU's start state
 * and operation sequence), so that fast-check can generate and shrink it and a counterexample
 * file can name it (`generated` in the file) and rebuild it.
 *
 * Every mm maps user va 0x1000; `kernel-flush` also maps a global kernel page. Operations:
 * `switch` to a user task of an mm, `lazy` (switch to a kernel thread), `access` (return to
 * user and touch 0x1000), `unmap` / `mprotect` (clear or rewrite the PTE, then
 * flush_tlb_mm_range), `free-pgtables` (the unmap_region path: pmd_clear, flush with
 * freed_tables, free and reuse the leaf table), `kernel-flush` (change the kernel PTE, then
 * flush_tlb_kernel_range) and `pasid` (update_mm_pasid). `normalizeSpec` drops the operations
 * that would make the world malformed rather than test the kernel: an access from a kernel
 * thread, PTE writes of one mm from two CPUs (the kernel holds the page-table lock), changes
 * after the table was freed, and operations the variant has no routine for.
 */
import { z } from 'zod';
import type { K } from '../kernel/fx.ts';
import { NO_MM } from '../kernel/layout.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { free_pgtables, set_pte_at } from '../kernel/common/sched.ts';
import { type MmInfo } from '../kernel/layout.ts';
import { PAGE_SIZE, makeEntry } from '../machine/types.ts';
/** The region free-pgtables unmaps: 64 pages, more than the single-page flush ceiling. */
const REGION_END = 0x40000;
const VA = 0x1000;
import { type Program, type Scenario, WorldBuilder, idleStart, inSegments, lazyStart, userStart } from './world.ts';

export const KVA = 0x80000;
export const MAX_MMS = 3;

const mm = z.number().int().min(0).max(MAX_MMS - 1);
export const opSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('switch'), mm }),
  z.object({ op: z.literal('lazy') }),
  z.object({ op: z.literal('access') }),
  z.object({ op: z.literal('unmap'), mm }),
  z.object({ op: z.literal('mprotect'), mm }),
  z.object({ op: z.literal('free-pgtables'), mm }),
  z.object({ op: z.literal('kernel-flush') }),
  z.object({ op: z.literal('pasid'), mm, val: z.number().int().min(1).max(15) }),
]);
export type Op = z.infer<typeof opSchema>;

export const generatedSpecSchema = z.object({
  mms: z.number().int().min(1).max(MAX_MMS),
  cpus: z
    .array(z.object({ start: z.enum(['user', 'lazy', 'idle']), mm, ops: z.array(opSchema).max(16) }))
    .min(1)
    .max(8),
});
export type GeneratedSpec = z.infer<typeof generatedSpecSchema>;
export type CpuSpec = GeneratedSpec['cpus'][number];

const MM_NAMES = ['mmA', 'mmB', 'mmC'];

function opText(o: Op): string {
  switch (o.op) {
    case 'switch':
    case 'unmap':
    case 'mprotect':
    case 'free-pgtables':
      return `${o.op} ${MM_NAMES[o.mm]}`;
    case 'pasid':
      return `pasid ${MM_NAMES[o.mm]}=${o.val}`;
    default:
      return o.op;
  }
}

/** One line per CPU: `cpu1 (user mmB): switch mmA; access`. */
export function describeSpec(s: GeneratedSpec): string {
  return s.cpus
    .map((c, i) => `cpu${i} (${c.start === 'idle' ? 'idle' : `${c.start} ${MM_NAMES[c.mm]}`}): ${c.ops.map(opText).join('; ') || '-'}`)
    .join(' | ');
}

/** The operations of `s` that make a well-formed world on a variant with `routines`. */
export function normalizeSpec(s: GeneratedSpec, routines: CoreRoutines): GeneratedSpec {
  const writer = new Map<number, number>();
  const freed = new Set<number>();
  const cpus = s.cpus.map((c, cpu) => {
    const m0 = Math.min(c.mm, s.mms - 1);
    let user = c.start === 'user';
    const ops: Op[] = [];
    for (const o of c.ops) {
      if ('mm' in o && o.mm >= s.mms) continue;
      switch (o.op) {
        case 'switch':
          user = true;
          break;
        case 'lazy':
          user = false;
          break;
        case 'access':
          if (!user) continue;
          break;
        case 'unmap':
        case 'mprotect':
        case 'free-pgtables':
          if (freed.has(o.mm) || (writer.get(o.mm) ?? cpu) !== cpu) continue;
          writer.set(o.mm, cpu);
          if (o.op === 'free-pgtables') freed.add(o.mm);
          break;
        case 'kernel-flush':
          if (!routines.flush_tlb_kernel_range) continue;
          break;
        case 'pasid':
          if (!routines.update_mm_pasid) continue;
          break;
      }
      ops.push(o);
    }
    return { start: c.start, mm: c.start === 'idle' ? 0 : m0, ops };
  });
  return { mms: s.mms, cpus };
}

export function opCount(s: GeneratedSpec): number {
  return s.cpus.reduce((n, c) => n + c.ops.length, 0);
}

/** A scenario for `s` (already normalized for the variant it runs on). */
export function generatedScenario(s: GeneratedSpec): Scenario {
  const n = s.cpus.length;
  return {
    id: 'generated',
    title: 'a generated scenario',
    description: describeSpec(s),
    cpus: { min: n, max: n, default: n },
    build: () => buildWorld(s),
  };
}

function buildWorld(s: GeneratedSpec) {
  const w = new WorldBuilder();
  const kernel = s.cpus.some((c) => c.ops.some((o) => o.op === 'kernel-flush'));
  const kptep = kernel ? w.mapKernel(KVA, w.dataPage(), true) : undefined;
  const knew = kernel ? w.dataPage() : 0;
  const mms: { info: MmInfo; ptep: number; old: number; table: number; pmdp: number }[] = [];
  for (let i = 0; i < s.mms; i++) {
    const info = w.addMm(MM_NAMES[i]!);
    const old = w.dataPage();
    const ptep = w.mapUser(info, VA, old);
    mms.push({ info, ptep, old, table: w.leafTable(info, VA), pmdp: w.pmdLoc(info, VA) });
  }
  const junk = makeEntry(w.dataPage());
  const M = (i: number) => mms[i]!;
  const programs: Program[] = s.cpus.map((c) =>
    inSegments(
      ...c.ops.map((o): Program =>
        function* (k: K<CoreRoutines>) {
        switch (o.op) {
          case 'switch':
            yield* k.r.context_switch(k, M(o.mm).info.id);
            break;
          case 'lazy':
            yield* k.r.context_switch(k, NO_MM);
            break;
          case 'access':
            yield* k.r.user_access(k, VA, false);
            break;
          case 'unmap':
          case 'mprotect':
            yield* set_pte_at(k, M(o.mm).ptep, o.op === 'unmap' ? 0 : makeEntry(M(o.mm).old));
            yield* k.r.flush_tlb_mm_range(k, M(o.mm).info.id, VA, VA + PAGE_SIZE, false);
            break;
          case 'free-pgtables':
            yield* free_pgtables(k, M(o.mm).info.id, M(o.mm).pmdp, M(o.mm).table, 0, REGION_END, junk);
            break;
          case 'kernel-flush':
            if (kptep !== undefined && k.r.flush_tlb_kernel_range) {
              yield* set_pte_at(k, kptep, makeEntry(knew, true));
              yield* k.r.flush_tlb_kernel_range(k, KVA, KVA + PAGE_SIZE);
            }
            break;
          case 'pasid':
            if (k.r.update_mm_pasid) yield* k.r.update_mm_pasid(k, M(o.mm).info.id, o.val);
            break;
        }
      }),
    ),
  );
  const starts = s.cpus.map((c) =>
    c.start === 'idle' ? idleStart() : c.start === 'user' ? userStart(M(c.mm).info.id, [VA]) : lazyStart(M(c.mm).info.id, [VA]),
  );
  return w.build(kernel ? [VA, KVA] : [VA], starts, programs);
}
