/**
 * What a move touched, as partial-order reduction needs it, derived from the step's hardware
 * events (machine/hw-events.ts) in one place, `footprintOf`: the resources, each as
 * resource * 2 + written, sorted, one entry per resource with its write bit OR-ed over every
 * access. Two moves are independent when no resource is written by one and touched by the other.
 *
 * Resources (`Shape`): memory words, then per CPU its store buffer, its translation state
 * (TLB, PSC, CR3/CR4, MSRs, walk budget), its IRQ state (flag, queued calls, INVLPGB queue),
 * its program and its early walks (the not-present walks `Machine.noteEarly` records, which a
 * serializing instruction forgets), then each page's lifecycle (kind, owner, generation), then the checker's
 * ghost state, then the ghost write-id counter of each page-table word, then the execution's
 * budgets of preemptions and of NMIs.
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
 * - an early-walk probe reads the CPU's translation state, its early walks and the entries it
 *   reached, so two page-table writes whose order decides whether an early walk is left behind
 *   conflict; a recorded early walk writes the early walks;
 * - a walk writes its CPU's translation state and reads each table page it reached (kind and
 *   owner, judged by the walk invariant), each entry it read, and the lifecycle of the page
 *   its TLB fill maps (the fill records its generation);
 * - an access writes the translation state and the early walks (it may fault on one, and a
 *   fault drops them) and reads the ghost state; its use reads the used page's lifecycle;
 * - MOV CR3/CR4, INVLPG, INVPCID and WRMSR write the translation state and, being
 *   serializing, the early walks (forgotten); an eviction writes the translation state only
 *   (an early walk it leaves behind is an `early` event of its own);
 * - an INVLPGB reads its CPU's translation state (its PCID) and writes every CPU's queue;
 *   TLBSYNC reads every queue; applying one writes the CPU's queue and translation state;
 * - interrupt entry writes the IRQ state and the program (a handler starts); IRET writes the
 *   IRQ state and, when it forgets early walks, the early walks (else it reads them): it does
 *   not touch the TLB or PSC, so it commutes with a speculative walk;
 * - a program move writes its program; the end of an execution writes every CPU's translation
 *   state and early walks (it disables every walk and eviction); a preemption or an NMI writes its budget (the
 *   last one left disables the others, on every CPU).
 */
export function footprintOf(events: readonly HwEvent[], shape: Shape): Footprint {
  const { words, cpus, pages } = shape;
  // Resource numbers (see the header): per CPU c, words + 5c is its store buffer, + 1 its
  // translation state, + 2 its IRQ state, + 3 its program, + 4 its early walks. Written out
  // rather than as local helper functions: this runs at every step of a search.
  const ptWords = pages * ENTRIES;
  const page0 = words + cpus * 5;
  const ghost = page0 + pages;
  const a: number[] = [];
  for (const e of events) {
    switch (e.k) {
      case 'load':
        add(a, e.loc * 2);
        if (e.sb > 0) add(a, (words + e.cpu * 5) * 2);
        break;
      case 'wid':
        add(a, e.loc * 2);
        add(a, (words + e.cpu * 5) * 2);
        break;
      case 'store':
        if (e.loc < ptWords) add(a, (ghost + 1 + e.loc) * 2 + 1);
        add(a, (e.buffered ? words + e.cpu * 5 : e.loc) * 2 + 1);
        break;
      case 'icr-store':
        add(a, (words + e.cpu * 5) * 2 + 1);
        break;
      case 'drain':
        add(a, (words + e.cpu * 5) * 2 + (e.n > 0 ? 1 : 0));
        break;
      case 'commit':
        add(a, e.loc * 2 + 1);
        break;
      case 'rmw':
        add(a, e.loc * 2 + 1);
        if (e.loc < ptWords) add(a, (ghost + 1 + e.loc) * 2 + 1);
        break;
      case 'ipi':
        add(a, (words + e.target * 5 + 2) * 2 + 1);
        break;
      case 'probe':
        add(a, (words + e.cpu * 5 + 1) * 2);
        add(a, (words + e.cpu * 5 + 4) * 2);
        if (e.upper >= 0) add(a, e.upper * 2);
        if (e.leaf >= 0) add(a, e.leaf * 2);
        break;
      case 'early':
        add(a, (words + e.cpu * 5 + 4) * 2 + 1);
        break;
      case 'evict':
        add(a, (words + e.cpu * 5 + 1) * 2 + 1);
        break;
      case 'insn':
        add(a, (words + e.cpu * 5 + 1) * 2 + 1);
        add(a, (words + e.cpu * 5 + 4) * 2 + 1);
        break;
      case 'walk': {
        add(a, (words + e.cpu * 5 + 1) * 2 + 1);
        const p = e.plan;
        if (!p) break;
        for (const r of p.reads) {
          add(a, (page0 + r.pfn) * 2);
          add(a, entryLoc(r.pfn, r.level === 'root' ? upperIndex(e.va) : leafIndex(e.va)) * 2);
        }
        if (p.tlb && p.tlb.pfn < pages) add(a, (page0 + p.tlb.pfn) * 2);
        break;
      }
      case 'ad':
        add(a, e.loc * 2 + 1);
        add(a, (ghost + 1 + e.loc) * 2 + 1);
        break;
      case 'soft-walk':
        add(a, (page0 + e.pfn) * 2);
        break;
      case 'access':
        add(a, (words + e.cpu * 5 + 1) * 2 + 1);
        add(a, (words + e.cpu * 5 + 4) * 2 + 1);
        add(a, ghost * 2);
        break;
      case 'use':
        if (e.pfn < pages) add(a, (page0 + e.pfn) * 2);
        break;
      case 'iret':
        add(a, (words + e.cpu * 5 + 2) * 2 + 1);
        add(a, (words + e.cpu * 5 + 4) * 2 + (e.forgot ? 1 : 0));
        break;
      case 'irq':
        add(a, (words + e.cpu * 5 + 2) * 2 + 1);
        break;
      case 'deliver':
        add(a, (words + e.cpu * 5 + 2) * 2 + 1);
        add(a, (words + e.cpu * 5 + 3) * 2 + 1);
        break;
      case 'invlpgb':
        add(a, (words + e.cpu * 5 + 1) * 2);
        for (let t = 0; t < cpus; t++) add(a, (words + t * 5 + 2) * 2 + 1);
        break;
      case 'tlbsync':
        for (let t = 0; t < cpus; t++) add(a, (words + t * 5 + 2) * 2);
        break;
      case 'bcast':
        add(a, (words + e.cpu * 5 + 2) * 2 + 1);
        add(a, (words + e.cpu * 5 + 1) * 2 + 1);
        break;
      case 'page-free':
        add(a, (page0 + e.pfn) * 2 + 1);
        break;
      case 'page-busy':
        add(a, (page0 + e.pfn) * 2);
        break;
      case 'page-reuse':
        add(a, (page0 + e.pfn) * 2 + 1);
        for (let i = 0; i < ENTRIES; i++) {
          const l = entryLoc(e.pfn, i);
          add(a, l * 2 + 1);
          add(a, (ghost + 1 + l) * 2 + 1);
        }
        break;
      case 'mm-life':
      case 'ghost':
        add(a, ghost * 2 + 1);
        break;
      case 'prog':
        add(a, (words + e.cpu * 5 + 3) * 2 + 1);
        break;
      case 'budget':
        add(a, (ghost + 1 + ptWords + (e.of === 'nmi' ? 1 : 0)) * 2 + 1);
        break;
      case 'end':
        for (let c = 0; c < cpus; c++) {
          add(a, (words + c * 5 + 1) * 2 + 1);
          add(a, (words + c * 5 + 4) * 2 + 1);
        }
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

