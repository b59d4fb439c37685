/**
 * The structured side of a trace event: what the step did, as data (locations, values, the
 * store buffer after it, the entry an access used). The report layer (timeline, explainer)
 * reads this and never parses the event's text. Pure functions over the machine after the
 * step; only called when a trace is being recorded.
 *
 * It is not part of the digest (digest.ts hashes the recorded fields only) and not saved in
 * counterexample files: replay re-creates it, so stored files and their digests are unchanged.
 */
import type { LocInfo, Layout } from '../kernel/layout.ts';
import type { AccessResult, CrossCall, Effect, InvlpgbSpec, RmwOp } from '../machine/effects.ts';
import type { Machine, WalkPlan } from '../machine/machine.ts';
import { valueText } from './describe.ts';
import { entryPfn, entryPresent, type CpuId, type Loc, type MmId, type Pfn } from '../machine/types.ts';

/** A memory word: its location, what it is, and its name (`pte(mmA, va 0x1000)`, `mmA.cpumask`). */
export interface LocRef {
  readonly loc: Loc;
  readonly name: string;
  readonly is: LocInfo;
}

/** A value and how it reads: `pfn 5`, `not present`, `{0,1}`, `mmA`, `2`. */
export interface Val {
  readonly v: number;
  readonly shown: string;
}

/** The TLB entry an access used: when it was filled (0: at boot) and from which entries. */
export interface UsedEntry {
  readonly filledAt: number;
  readonly pfn: Pfn;
  readonly pcid: number;
  readonly global: boolean;
  readonly leafLoc: Loc;
  readonly upperLoc: Loc;
}

export type EventBody =
  | { readonly k: 'load'; readonly at: LocRef; readonly val: Val }
  | { readonly k: 'store'; readonly at: LocRef; readonly val: Val; readonly buffered: boolean }
  | { readonly k: 'rmw'; readonly at: LocRef; readonly op: RmwOp; readonly old: Val }
  | { readonly k: 'wait'; readonly at: LocRef; readonly val: Val; readonly what: string }
  | { readonly k: 'mfence' }
  | { readonly k: 'cr3'; readonly root: Pfn; readonly pcid: number; readonly noflush: boolean }
  | { readonly k: 'invlpg'; readonly va: number }
  | { readonly k: 'invpcid'; readonly type: number; readonly pcid: number; readonly va: number }
  /** INVLPGB issued (AMD broadcast): what it asks every CPU to invalidate; nothing is invalidated yet. */
  | { readonly k: 'invlpgb'; readonly inv: InvlpgbSpec }
  /** TLBSYNC completed: every INVLPGB this CPU issued before it has been applied everywhere. */
  | { readonly k: 'tlbsync' }
  /** The broadcast actor: an INVLPGB of cpu `from` applied on this CPU, dropping `tlb` and `psc` entries. */
  | { readonly k: 'bcast'; readonly from: CpuId; readonly inv: InvlpgbSpec; readonly tlb: number; readonly psc: number }
  | { readonly k: 'pge'; readonly on: boolean }
  | { readonly k: 'wrmsr-pasid'; readonly val: number }
  | { readonly k: 'irq'; readonly on: boolean }
  | { readonly k: 'iret' }
  | { readonly k: 'ipi-send'; readonly target: CpuId; readonly fn: string }
  | { readonly k: 'access'; readonly va: number; readonly mm: MmId; readonly mmName: string; readonly ok: boolean; readonly viaTlb: boolean; readonly entry?: UsedEntry }
  | { readonly k: 'free-page'; readonly pfn: Pfn }
  | { readonly k: 'reuse-page'; readonly pfn: Pfn }
  | { readonly k: 'assert'; readonly what: string }
  | { readonly k: 'drain'; readonly at: LocRef; readonly val: Val }
  | { readonly k: 'walk'; readonly va: number; readonly reads: readonly { readonly pfn: Pfn; readonly viaPsc: boolean }[]; readonly tlb?: { readonly pfn: Pfn; readonly leafLoc: Loc }; readonly pscLeaf?: Pfn }
  | { readonly k: 'ipi-take'; readonly calls: readonly { readonly fn: string; readonly sender: CpuId }[] }
  | { readonly k: 'evict' }
  | { readonly k: 'flush-return'; readonly mm: MmId; readonly mmName: string; readonly kernel: boolean }
  /** Ghost: the mm struct at slot `mm` was allocated or freed; `gen` is the slot's new generation. */
  | { readonly k: 'mm-life'; readonly mm: MmId; readonly mmName: string; readonly alive: boolean; readonly gen: number }
  | { readonly k: 'alloc-table'; readonly pfn: Pfn; readonly mm: MmId }
  | { readonly k: 'end' }
  /** The scheduler switched the CPU from task `from` to task `to` (`exited`: `from` had ended). */
  | { readonly k: 'sched'; readonly from: string; readonly to: string; readonly exited: boolean }
  | { readonly k: 'other' };

export type EventData = EventBody & {
  /** Entries in this CPU's store buffer after the event. */
  readonly sb: number;
};

export function locRef(L: Layout, loc: Loc): LocRef {
  return { loc, name: L.nameOf(loc), is: L.locInfo(loc) };
}

export function val(L: Layout, loc: Loc, v: number): Val {
  return { v, shown: loc < L.base ? entryWords(v) : valueText(L, loc, v) };
}

/** The data of a program step (or an instant effect recorded with it). */
export function effectBody(e: Effect, out: unknown, L: Layout, m: Machine, c: CpuId): EventBody {
  switch (e.k) {
    case 'load':
      return { k: 'load', at: locRef(L, e.loc), val: val(L, e.loc, out as number) };
    case 'store': {
      const sb = m.cpu(c).sb;
      const last = sb[sb.length - 1];
      return { k: 'store', at: locRef(L, e.loc), val: val(L, e.loc, e.val), buffered: last !== undefined && last.loc === e.loc };
    }
    case 'rmw':
      return { k: 'rmw', at: locRef(L, e.loc), op: e.op, old: val(L, e.loc, out as number) };
    case 'wait':
      return { k: 'wait', at: locRef(L, e.loc), val: val(L, e.loc, out as number), what: e.what };
    case 'mfence':
    case 'iret':
      return { k: e.k };
    case 'cr3':
      return { k: 'cr3', root: e.root, pcid: e.pcid, noflush: e.noflush };
    case 'invlpg':
      return { k: 'invlpg', va: e.va };
    case 'invpcid':
      return { k: 'invpcid', type: e.type, pcid: e.pcid, va: e.va };
    case 'invlpgb':
      return { k: 'invlpgb', inv: e.inv };
    case 'tlbsync':
      return { k: 'tlbsync' };
    case 'pge':
      return { k: 'pge', on: e.on };
    case 'wrmsr-pasid':
      return { k: 'wrmsr-pasid', val: e.val };
    case 'irq':
      return { k: 'irq', on: e.on };
    case 'ipi':
      return { k: 'ipi-send', target: e.target, fn: e.call.fn };
    case 'access': {
      const r = out as AccessResult;
      let entry: UsedEntry | undefined;
      for (const o of m.obs) {
        if (o.o !== 'use' || o.cpu !== c) continue;
        const x = o.entry;
        entry = { filledAt: x.rec.step, pfn: x.pfn, pcid: x.pcid, global: x.global, leafLoc: x.rec.leafLoc, upperLoc: x.rec.upperLoc };
      }
      const mm = m.treeOf(c);
      const base = { k: 'access' as const, va: e.va, mm, mmName: L.mmName(mm), ok: r.ok, viaTlb: r.ok && r.viaTlb };
      return entry ? { ...base, entry } : base;
    }
    case 'free-page':
      return { k: e.k, pfn: e.pfn };
    case 'reuse-page':
      // A page still in use is not handed out (Machine.reusePage returned false).
      return out === false ? { k: 'other' } : { k: e.k, pfn: e.pfn };
    case 'alloc-table':
      return out === false ? { k: 'other' } : { k: e.k, pfn: e.pfn, mm: e.owner };
    default:
      return { k: 'other' };
  }
}

export function drainBody(L: Layout, loc: Loc, v: number): EventBody {
  return { k: 'drain', at: locRef(L, loc), val: val(L, loc, v) };
}

export function walkBody(va: number, plan: WalkPlan | undefined): EventBody {
  const reads = (plan?.reads ?? []).map((r) => ({ pfn: r.pfn, viaPsc: r.viaPsc }));
  const t = plan?.tlb;
  return {
    k: 'walk',
    va,
    reads,
    ...(t ? { tlb: { pfn: t.pfn, leafLoc: t.rec.leafLoc } } : {}),
    ...(plan?.psc ? { pscLeaf: plan.psc.leafPfn } : {}),
  };
}

export function ipiTakeBody(calls: readonly CrossCall[]): EventBody {
  return { k: 'ipi-take', calls: calls.map((x) => ({ fn: x.fn, sender: x.sender })) };
}

/** A page-table entry's value in words: `pfn 5` or `not present`. */
export function entryWords(v: number): string {
  return entryPresent(v) ? `pfn ${entryPfn(v)}` : 'not present';
}
