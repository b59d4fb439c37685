/**
 * What a move touched, as partial-order reduction needs it, derived from the step's hardware
 * events (machine/hw-events.ts) in one place, `footprintOf`: the resources, each as
 * resource * 2 + written, sorted, one entry per resource with its write bit OR-ed over every
 * access. Two moves are independent when no resource is written by one and touched by the other.
 *
 * Resources (`Shape`): memory words, then per CPU its store buffer, its translation state
 * (TLB, PSC, early walks, CR3/CR4, MSRs), its IRQ state (flag, queued calls, INVLPGB queue)
 * and its program, then each page's lifecycle (kind, owner, generation), then the checker's
 * ghost state, then the ghost write-id counter of each page-table word.
 */
import { type HwEvent } from '../machine/hw-events.ts';
import { ENTRIES, entryLoc, leafIndex, upperIndex } from '../machine/types.ts';

export type Footprint = readonly number[];

/** The sizes the resource numbering needs (a machine's memory words, CPUs and pages). */
export interface Shape {
  readonly words: number;
  readonly cpus: number;
  readonly pages: number;
}

/** Insert access `x` (resource * 2 + written) into sorted footprint `a`, OR-ing the write bit. */
function add(a: number[], x: number): void {
  const r = x >>> 1;
  let i = a.length - 1;
  while (i >= 0 && a[i]! >>> 1 > r) i--;
  if (i >= 0 && a[i]! >>> 1 === r) a[i] = a[i]! | (x & 1);
  else a.splice(i + 1, 0, x);
}

/**
 * The footprint of a step from its events. Why each event touches what it touches:
 * - a load reads its word, and the store buffer when it holds anything (forwarding); the
 *   ghost version read (`wid`) reads both always;
 * - a store writes its CPU's buffer, or the word itself when it is private; a page-table word's
 *   store, RMW, A/D update or rewrite also takes the word's next write id (issue order);
 * - a drain writes the buffer (waiting for an empty one reads it), a commit writes its word, an
 *   IPI writes the target's IRQ state;
 * - an early-walk probe reads the CPU's translation state and the entries it reached, so two
 *   page-table writes whose order decides whether an early walk is left behind conflict; a
 *   recorded early walk writes the translation state;
 * - a walk writes its CPU's translation state and reads each table page it reached (kind and
 *   owner, judged by the walk invariant), each entry it read, and the lifecycle of the page
 *   its TLB fill maps (the fill records its generation);
 * - an access writes the translation state and reads the ghost state; its use reads the used
 *   page's lifecycle;
 * - an INVLPGB reads its CPU's translation state (its PCID) and writes every CPU's queue;
 *   TLBSYNC reads every queue; applying one writes the CPU's queue and translation state;
 * - interrupt entry writes the IRQ state and the program (a handler starts); IRET writes the
 *   IRQ state and, when it forgets early walks, the translation state (else it reads it);
 * - a program move writes its program; the end of an execution writes every CPU's translation
 *   state (it disables every walk and eviction).
 */
export function footprintOf(events: readonly HwEvent[], shape: Shape): Footprint {
  const { words, cpus, pages } = shape;
  const ptWords = pages * ENTRIES;
  const sb = (c: number): number => words + c * 4;
  const hw = (c: number): number => words + c * 4 + 1;
  const irq = (c: number): number => words + c * 4 + 2;
  const prog = (c: number): number => words + c * 4 + 3;
  const page = (pfn: number): number => words + cpus * 4 + pfn;
  const ghost = words + cpus * 4 + pages;
  const issue = (loc: number): number => ghost + 1 + loc;
  const a: number[] = [];
  const rd = (r: number): void => add(a, r * 2);
  const wr = (r: number): void => add(a, r * 2 + 1);
  for (const e of events) {
    switch (e.k) {
      case 'load':
        rd(e.loc);
        if (e.sb > 0) rd(sb(e.cpu));
        break;
      case 'wid':
        rd(e.loc);
        rd(sb(e.cpu));
        break;
      case 'store':
        if (e.loc < ptWords) wr(issue(e.loc));
        wr(e.buffered ? sb(e.cpu) : e.loc);
        break;
      case 'icr-store':
        wr(sb(e.cpu));
        break;
      case 'drain':
        if (e.n > 0) wr(sb(e.cpu));
        else rd(sb(e.cpu));
        break;
      case 'commit':
        wr(e.loc);
        break;
      case 'rmw':
        wr(e.loc);
        if (e.loc < ptWords) wr(issue(e.loc));
        break;
      case 'ipi':
        wr(irq(e.target));
        break;
      case 'probe':
        rd(hw(e.cpu));
        if (e.upper >= 0) rd(e.upper);
        if (e.leaf >= 0) rd(e.leaf);
        break;
      case 'early':
      case 'evict':
      case 'insn':
        wr(hw(e.cpu));
        break;
      case 'walk': {
        wr(hw(e.cpu));
        const p = e.plan;
        if (!p) break;
        for (const r of p.reads) {
          rd(page(r.pfn));
          rd(entryLoc(r.pfn, r.level === 'root' ? upperIndex(e.va) : leafIndex(e.va)));
        }
        if (p.tlb && p.tlb.pfn < pages) rd(page(p.tlb.pfn));
        break;
      }
      case 'ad':
        wr(e.loc);
        wr(issue(e.loc));
        break;
      case 'soft-walk':
        rd(page(e.pfn));
        break;
      case 'access':
        wr(hw(e.cpu));
        rd(ghost);
        break;
      case 'use':
        if (e.pfn < pages) rd(page(e.pfn));
        break;
      case 'iret':
        wr(irq(e.cpu));
        if (e.forgot) wr(hw(e.cpu));
        else rd(hw(e.cpu));
        break;
      case 'irq':
        wr(irq(e.cpu));
        break;
      case 'deliver':
        wr(irq(e.cpu));
        wr(prog(e.cpu));
        break;
      case 'invlpgb':
        rd(hw(e.cpu));
        for (let t = 0; t < cpus; t++) wr(irq(t));
        break;
      case 'tlbsync':
        for (let t = 0; t < cpus; t++) rd(irq(t));
        break;
      case 'bcast':
        wr(irq(e.cpu));
        wr(hw(e.cpu));
        break;
      case 'page-free':
        wr(page(e.pfn));
        break;
      case 'page-busy':
        rd(page(e.pfn));
        break;
      case 'page-reuse':
        wr(page(e.pfn));
        for (let i = 0; i < ENTRIES; i++) {
          const l = entryLoc(e.pfn, i);
          wr(l);
          wr(issue(l));
        }
        break;
      case 'mm-life':
      case 'ghost':
        wr(ghost);
        break;
      case 'prog':
        wr(prog(e.cpu));
        break;
      case 'end':
        for (let c = 0; c < cpus; c++) wr(hw(c));
        break;
      default: {
        const never: never = e;
        throw new Error(`[tlbcheck bug] hardware event ${String(never)}`);
      }
    }
  }
  return a;
}

export function independent(a: Footprint, b: Footprint): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const rx = x >>> 1;
    const ry = y >>> 1;
    if (rx < ry) i++;
    else if (ry < rx) j++;
    else {
      if (((x | y) & 1) !== 0) return false;
      i++;
      j++;
    }
  }
  return true;
}
