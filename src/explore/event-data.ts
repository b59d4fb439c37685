/**
 * The structured side of a trace event: what the step did, as data (locations, values, the
 * store buffer after it, the entry an access used). The report layer (timeline, explainer)
 * reads this and never parses the event's text. Pure functions over the machine after the
 * step; only called when a trace is being recorded.
 *
 * Every recorded event has a body naming what happened (its effect kind and operands). The
 * strings inside a body - a location's `name`, a value's `shown`, `mmName`, a wait's or an
 * assertion's `what`, a scheduler event's task names - are display only, and a location's
 * number (`loc`, an entry's `leafLoc`/`upperLoc`) is this model's layout only: `canonData`
 * drops both and names every location by what it is (`LocInfo`), and the trace digest
 * (counterexample/digest.ts) covers that canonical form. So rewording an event, or moving a
 * variable in the layout (a field added to an mm or per-CPU block, a page more in the world),
 * leaves stored digests unchanged. Counterexample files (schema 4) store the canonical form of
 * each event's data. `canonDataV3` is the form schema-3 files stored (location numbers kept);
 * `canonData` of that form is the schema-4 form, which is how those files are verified now.
 */
import type { LocInfo, Layout } from '../kernel/layout.ts';
import type { AccessOutcome, CrossCall, Effect, InvlpgbSpec, RmwOp } from '../machine/effects.ts';
import type { Machine, WalkPlan } from '../machine/machine.ts';
import { valueText } from './describe.ts';
import { callTextV4 } from '../kernel/call-text.ts';
import { ENTRIES, entryPfn, entryPresent, type CpuId, type Loc, type MmId, type Pfn } from '../machine/types.ts';

/**
 * A memory word: its location, what it is, and its name (`pte(mmA, va 0x1000)`, `mmA.cpumask`).
 * `loc` is its number in this model's layout, for readers in the same process (explainers key
 * words by it, the minimizer re-places it); the canonical form keeps only `is`.
 */
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

/**
 * The TLB entry an access used: when it was filled (0: at boot) and from which entries (their
 * numbers; the canonical form names them `leaf` and `upper`, as table entries by pfn and index).
 */
export interface UsedEntry {
  readonly filledAt: number;
  readonly pfn: Pfn;
  readonly pcid: number;
  readonly global: boolean;
  readonly leafLoc: Loc;
  readonly upperLoc: Loc;
}

/**
 * A cross-call in an IPI event: the function and its argument as data (`info`: a C value, a
 * location in it as a `LocRef`), and `fn`, the call as schema-4 files stored it
 * (kernel/call-text.ts `callTextV4`: frozen wording). Schema 5 keeps `func` and `info`;
 * schema 4 kept `fn` alone, and is verified by it. A recording read from a schema-4 file has
 * `fn` only, one from a schema-5 file `func` and `info` only.
 */
export interface CallBody {
  readonly fn?: string;
  readonly func?: string;
  readonly info?: unknown;
}

/** How a call in event data reads: its schema-4 text when the data has it, else its function's name. */
export const callName = (c: CallBody): string => c.fn ?? c.func ?? 'the call';

export type EventBody =
  /** `bits`: the bits of the word the code kept (cpumask_test_cpu), when not all; schema 5 only. */
  | { readonly k: 'load'; readonly at: LocRef; readonly val: Val; readonly bits?: number }
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
  | { readonly k: 'cr4'; readonly pge: boolean; readonly pcide: boolean }
  | ({ readonly k: 'ipi-send'; readonly target: CpuId } & CallBody)
  | { readonly k: 'access'; readonly va: number; readonly write: boolean; readonly mm: MmId; readonly mmName: string; readonly ok: boolean; readonly viaTlb: boolean; readonly entry?: UsedEntry }
  /** A kernel load or store through a virtual address (`ok`: translated; `val`: the value loaded or stored). */
  | { readonly k: 'vload'; readonly va: number; readonly ok: boolean; readonly val?: number }
  | { readonly k: 'vstore'; readonly va: number; readonly ok: boolean; readonly val: number }
  | { readonly k: 'free-page'; readonly pfn: Pfn }
  | { readonly k: 'reuse-page'; readonly pfn: Pfn }
  /** The page was still in use: not handed out (Machine.reusePage returned false). */
  | { readonly k: 'reuse-refused'; readonly pfn: Pfn }
  | { readonly k: 'assert'; readonly kind: 'WARN' | 'BUG'; readonly what: string }
  | { readonly k: 'drain'; readonly at: LocRef; readonly val: Val }
  /** The drain of a buffered xAPIC ICR store: the IPI of `fn` is raised on `target`. */
  | ({ readonly k: 'ipi-raise'; readonly target: CpuId } & CallBody)
  /** An NMI: the perf handler will read user address `va` of the interrupted task. */
  | { readonly k: 'nmi'; readonly va: number }
  /** Reads of the CPU's own registers and instant markers, when they are a step of their own (after a preemption point). */
  | { readonly k: 'read-cr3'; readonly root: Pfn; readonly pcid: number }
  | { readonly k: 'irqs-disabled'; readonly off: boolean }
  | { readonly k: 'read-pasid-msr'; readonly val: number }
  | { readonly k: 'preempt'; readonly delta: 1 | -1 }
  | { readonly k: 'flush-begin'; readonly mm: MmId; readonly start: number; readonly end: number; readonly kernel: boolean }
  | { readonly k: 'flush-end'; readonly token: number }
  | { readonly k: 'pasid-update-begin'; readonly mm: MmId; readonly val: number }
  | { readonly k: 'pasid-update-end'; readonly token: number }
  | { readonly k: 'user-running'; readonly mm: MmId; readonly on: boolean }
  | { readonly k: 'enter'; readonly fn: string }
  | { readonly k: 'leave' }
  | { readonly k: 'sub'; readonly fn: string }
  | { readonly k: 'walk'; readonly va: number; readonly reads: readonly { readonly pfn: Pfn; readonly viaPsc: boolean }[]; readonly tlb?: { readonly pfn: Pfn; readonly leafLoc: Loc }; readonly pscLeaf?: Pfn }
  | { readonly k: 'ipi-take'; readonly calls: readonly (CallBody & { readonly sender: CpuId })[] }
  /** An eviction from the TLB (`index`: the vpn) or the paging-structure cache (`index`: the upper-table slot). */
  | { readonly k: 'evict'; readonly cache: 'tlb' | 'psc'; readonly pcid: number; readonly index: number }
  | { readonly k: 'flush-return'; readonly mm: MmId; readonly mmName: string; readonly kernel: boolean }
  /** Ghost: the mm struct at slot `mm` was allocated or freed; `gen` is the slot's new generation. */
  | { readonly k: 'mm-life'; readonly mm: MmId; readonly mmName: string; readonly alive: boolean; readonly gen: number }
  | { readonly k: 'alloc-table'; readonly pfn: Pfn; readonly mm: MmId }
  /** A read of a word that does not change while the reader can reach it (`mm->context.ctx_id`). */
  | { readonly k: 'read-fixed'; readonly at: LocRef; readonly val: Val }
  | { readonly k: 'end' }
  /**
   * The scheduler switched the CPU from task `prev` to task `task` (`exited`: `prev` had
   * ended); `from` and `to` are their names (display).
   */
  | { readonly k: 'sched'; readonly prev: number; readonly task: number; readonly from: string; readonly to: string; readonly exited: boolean }
  /**
   * A step effect of a kind with no data shape of its own here (a kind added with only its row
   * in machine/effect-kinds.ts and its semantics): the word its `loc` field names (as every
   * location in event data: what it is, not its number), its other number, string and flag
   * fields as they are, and what it gave back when that is a number or a flag. Other fields
   * (objects, lists) are left out, and a location in a field of another name is kept as its
   * number, which moves with the layout: a kind with such fields wants a shape of its own.
   */
  | { readonly k: 'effect'; readonly kind: string; readonly at?: LocRef; readonly fields: Readonly<Record<string, number | string | boolean>>; readonly out?: number | boolean };

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
      return e.bits === undefined ? { k: 'load', at: locRef(L, e.loc), val: val(L, e.loc, out as number) } : { k: 'load', at: locRef(L, e.loc), val: val(L, e.loc, out as number), bits: e.bits };
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
    case 'tlbsync':
    case 'leave':
      return { k: e.k };
    case 'cr4':
      return { k: 'cr4', pge: e.pge, pcide: e.pcide };
    case 'cr3':
      return { k: 'cr3', root: e.root, pcid: e.pcid, noflush: e.noflush };
    case 'invlpg':
      return { k: 'invlpg', va: e.va };
    case 'invpcid':
      return { k: 'invpcid', type: e.type, pcid: e.pcid, va: e.va };
    case 'invlpgb':
      return { k: 'invlpgb', inv: e.inv };
    case 'pge':
      return { k: 'pge', on: e.on };
    case 'wrmsr-pasid':
      return { k: 'wrmsr-pasid', val: e.val };
    case 'irq':
      return { k: 'irq', on: e.on };
    case 'ipi':
      return { k: 'ipi-send', target: e.target, ...callBody(L, e.call) };
    case 'access': {
      const r = out as AccessOutcome;
      let entry: UsedEntry | undefined;
      for (const o of m.obs) {
        if (o.o !== 'use' || o.cpu !== c) continue;
        const x = o.entry;
        entry = { filledAt: x.rec.step, pfn: x.pfn, pcid: x.pcid, global: x.global, leafLoc: x.rec.leafLoc, upperLoc: x.rec.upperLoc };
      }
      const mm = m.treeOf(c);
      const base = { k: 'access' as const, va: e.va, write: e.write, mm, mmName: L.mmName(mm), ok: r.ok, viaTlb: r.ok && r.viaTlb };
      return entry ? { ...base, entry } : base;
    }
    case 'vload': {
      const r = out as AccessOutcome;
      return r.ok && r.val !== undefined ? { k: 'vload', va: e.va, ok: true, val: r.val } : { k: 'vload', va: e.va, ok: r.ok };
    }
    case 'vstore':
      return { k: 'vstore', va: e.va, ok: (out as AccessOutcome).ok, val: e.val };
    case 'free-page':
      return { k: e.k, pfn: e.pfn };
    case 'reuse-page':
      // A page still in use is not handed out (Machine.reusePage returned false).
      return out === false ? { k: 'reuse-refused', pfn: e.pfn } : { k: e.k, pfn: e.pfn };
    case 'assert':
      return { k: 'assert', kind: e.kind, what: e.what };
    case 'read-cr3': {
      const r = out as { root: Pfn; pcid: number };
      return { k: 'read-cr3', root: r.root, pcid: r.pcid };
    }
    case 'irqs-disabled':
      return { k: 'irqs-disabled', off: out === true };
    case 'read-pasid-msr':
      return { k: 'read-pasid-msr', val: out as number };
    case 'preempt':
      return { k: 'preempt', delta: e.delta };
    case 'flush-begin':
      return { k: 'flush-begin', mm: e.mm, start: e.start, end: e.end, kernel: e.kernel };
    case 'flush-end':
    case 'pasid-update-end':
      return { k: e.k, token: e.token };
    case 'pasid-update-begin':
      return { k: e.k, mm: e.mm, val: e.val };
    case 'user-running':
      return { k: e.k, mm: e.mm, on: e.on };
    case 'enter':
    case 'sub':
      return { k: e.k, fn: e.fn };
    case 'alloc-table':
      return out === false ? { k: 'reuse-refused', pfn: e.pfn } : { k: e.k, pfn: e.pfn, mm: e.owner };
    case 'read-fixed':
      return { k: 'read-fixed', at: locRef(L, e.loc), val: val(L, e.loc, out as number) };
    case 'mm-life':
      return { k: 'mm-life', mm: e.mm, mmName: L.mmName(e.mm), alive: e.alive, gen: -1 };
    default:
      return plainBody(e, out, L);
  }
}

/** The data of an effect of a kind `effectBody` has no case for: its plain fields (`at` is the source site, display). */
export function plainBody(e: Effect, out: unknown, L: Layout): EventBody {
  const fields: Record<string, number | string | boolean> = {};
  let at: LocRef | undefined;
  for (const [f, v] of Object.entries(e)) {
    if (f === 'k' || f === 'at') continue;
    if (f === 'loc' && typeof v === 'number') at = locRef(L, v);
    else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') fields[f] = v;
  }
  return { k: 'effect', kind: e.k, ...(at ? { at } : {}), fields, ...(typeof out === 'number' || typeof out === 'boolean' ? { out } : {}) };
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

export function ipiTakeBody(L: Layout, calls: readonly CrossCall[]): EventBody {
  return { k: 'ipi-take', calls: calls.map((x) => ({ ...callBody(L, x), sender: x.sender })) };
}

/** A queued call as event data: its function, its argument (a location in it named by a `LocRef`) and its schema-4 text. */
export function callBody(L: Layout, c: CrossCall): CallBody {
  const data = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(data);
    const o = v as Readonly<Record<string, unknown>>;
    // A shared word (kc Val `mem`): by what it is, never by its number.
    if (o.t === 'mem' && typeof o.loc === 'number') return { t: 'mem', at: locRef(L, o.loc), what: o.what };
    const out: Record<string, unknown> = {};
    for (const [key, x] of Object.entries(o)) out[key] = data(x);
    return out;
  };
  return c.info === undefined ? { fn: callTextV4(L, c), func: c.func } : { fn: callTextV4(L, c), func: c.func, info: data(c.info) };
}

/** A page-table entry's value in words: `pfn 5` or `not present`. */
export function entryWords(v: number): string {
  return entryPresent(v) ? `pfn ${entryPfn(v)}` : 'not present';
}

/** The entry eviction `i` of cpu `c` will drop (Machine.evict: TLB entries first, then PSC entries); read before it runs. */
export function evictBody(m: Machine, c: CpuId, i: number): EventBody {
  const cpu = m.cpu(c);
  const t = cpu.tlb[i];
  if (t) return { k: 'evict', cache: 'tlb', pcid: t.pcid, index: t.vpn };
  const p = cpu.psc[i - cpu.tlb.length];
  return { k: 'evict', cache: 'psc', pcid: p?.pcid ?? -1, index: p?.ui ?? -1 };
}

/**
 * The canonical form of an event's data (schema 4): its body and store-buffer depth without the
 * display strings, every location named by what it is and never by its number - a `LocRef` is
 * `{ is }`, a used entry's and a walk's TLB entry's `leafLoc`/`upperLoc` are `leaf`/`upper`
 * (`LocInfo` of the table entry: pfn and index). It is what a counterexample file (schema 4)
 * stores and what the trace digest covers; it does not change when a variable moves in the
 * layout. Page frame numbers stay: the scenario gives every page its pfn when it builds the
 * world (there is no allocator choosing them at run time), they are what CR3 and the entries
 * hold, and no layout change moves them. `canonData` of a canonical form is itself.
 */
export type CanonData = { readonly k: string; readonly sb: number; readonly [key: string]: unknown };

/** Display fields of each kind, besides a location's `name` and a value's `shown`. */
const DISPLAY: Partial<Record<EventBody['k'], readonly string[]>> = {
  wait: ['what'],
  assert: ['what'],
  access: ['mmName'],
  'flush-return': ['mmName'],
  'mm-life': ['mmName'],
  sched: ['from', 'to'],
};

/** The table entry at `loc` as data (page-table entries sit below every variable: pfn * ENTRIES + index). */
const tableAt = (loc: number): LocInfo => ({ kind: 'table', pfn: Math.floor(loc / ENTRIES), index: loc % ENTRIES });

/** Location-number fields of an entry record (UsedEntry, a walk's `tlb`) and their canonical names. */
const ENTRY_LOCS: readonly (readonly [string, string])[] = [
  ['leafLoc', 'leaf'],
  ['upperLoc', 'upper'],
];

export function canonData(d: EventData | CanonData): CanonData {
  return canonWith(d, canonValue, 5);
}

/**
 * The canonical form schema-4 files store and are verified by (and schema-3 files, read as
 * schema 4): as `canonData`, but a cross-call is its schema-4 text `fn` (kernel/call-text.ts),
 * not its function and argument, and a load does not say which bits it kept.
 */
export function canonDataV4(d: EventData | CanonData): CanonData {
  return canonWith(d, canonValue, 4);
}

/**
 * The canonical form schema-3 files stored: as `canonData`, but a `LocRef` keeps its number
 * (`{ loc, is }`) and an entry its `leafLoc`/`upperLoc`, so it moves whenever the layout does.
 * Nothing verifies by it any more (`canonData` reads schema-3 data as schema 4); it is the
 * schema-3 rule, kept to state what it was (counterexample/digest.ts `eventsDigestV3`).
 */
export function canonDataV3(d: EventData | CanonData): CanonData {
  return canonWith(d, canonValueV3, 4);
}

/** The fields of a cross-call each schema's canonical form drops: 5 its text, 4 its data. */
const CALL_DROP = { 5: ['fn'], 4: ['func', 'info'] } as const;

function canonWith(d: EventData | CanonData, value: (v: unknown) => unknown, schema: 4 | 5): CanonData {
  const calls: readonly string[] = CALL_DROP[schema];
  const drop: readonly string[] = [
    ...(DISPLAY[d.k as EventBody['k']] ?? []),
    ...(d.k === 'ipi-send' || d.k === 'ipi-raise' ? calls : []),
    ...(d.k === 'load' && schema === 4 ? ['bits'] : []),
  ];
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(d)) {
    if (v === undefined || drop.includes(key)) continue;
    if (d.k === 'ipi-take' && key === 'calls' && Array.isArray(v)) {
      out[key] = v.map((c: Readonly<Record<string, unknown>>) => value(Object.fromEntries(Object.entries(c).filter(([f]) => !calls.includes(f)))));
    } else out[key] = value(v);
  }
  return out as CanonData;
}

function canonValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonValue);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  // A LocRef: what the location is; its number and its name are not canonical.
  if ('is' in o && Object.keys(o).every((k) => k === 'is' || k === 'loc' || k === 'name')) return { is: canonValue(o.is) };
  // A Val: the number; how it reads is display.
  if ('v' in o && Object.keys(o).every((k) => k === 'v' || k === 'shown')) return { v: o.v };
  const out: Record<string, unknown> = {};
  for (const [key, x] of Object.entries(o)) {
    if (x === undefined) continue;
    const named = ENTRY_LOCS.find(([k]) => k === key);
    // An entry record's location number: the table entry it is.
    if (named && typeof x === 'number') out[named[1]] = tableAt(x);
    else out[key] = canonValue(x);
  }
  return out;
}

function canonValueV3(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonValueV3);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  // A LocRef: the location and what it is; its name is display.
  if ('loc' in o && 'is' in o) return { loc: o.loc, is: canonValueV3(o.is) };
  // A Val: the number; how it reads is display.
  if ('v' in o && Object.keys(o).every((k) => k === 'v' || k === 'shown')) return { v: o.v };
  const out: Record<string, unknown> = {};
  for (const [key, x] of Object.entries(o)) if (x !== undefined) out[key] = canonValueV3(x);
  return out;
}
