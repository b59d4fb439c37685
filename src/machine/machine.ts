/**
 * The x86 machine: the only code that mutates machine state.
 *
 * Semantics (docs/design.md "Hardware semantics"; the simplifications are listed there too):
 * - x86-TSO: a plain store enters the CPU's FIFO store buffer; a load reads the newest own
 *   buffered store to the address, else memory; `drainOne` commits the oldest entry and is a
 *   separate hardware step. LOCK'd RMW, MFENCE and serializing instructions (MOV CR3, INVLPG,
 *   INVPCID, WRMSR, IRET) drain the whole buffer first. Draining all at once is equivalent to
 *   waiting for the drain steps, because every other actor's step between those drains commutes with
 *   them or could have run before them.
 * - Page tables live in memory; page kinds and owners are ghost state.
 * - The walker reads memory, never the store buffer, fills the PSC and fills the TLB only with
 *   present translations. It sets a leaf entry's accessed flag, and on a write its dirty flag,
 *   with a locked update of the PTE in memory (SDM §4.8); a write through a cached entry that
 *   is read-only or not dirty walks again (the D update must read the PTE).
 * - Early walks: a walk is not ordered after earlier loads (SDM §8.2.3.1 orders loads and
 *   stores only; §4.10.2.3: walks are speculative), and an access may use the result of any
 *   walk made since its CPU's last serializing instruction. Present results are the TLB's
 *   entries; a not-present result is remembered in `early` (it is never a TLB entry), and an
 *   access that misses the TLB may fault on it (`access(..., early = true)`). This is the
 *   "preserved program order leaves walks out" of the axiomatic x86 translation models
 *   (COATCheck, Lustig et al., ASPLOS 2016; TransForm, Hossain et al., ISCA 2020).
 * - A page fault invalidates the TLB and paging-structure-cache entries that would translate
 *   the faulting address (SDM §4.10.4.1), and generating it drains the store buffer.
 * - CR3 writes, INVLPG, INVPCID types 0-3 and CR4 writes (PGE changed, or PCIDE 1 -> 0)
 *   invalidate as in SDM §4.10.4.1; each is serializing and so forgets the early walks.
 *   With the `invlpg-miss` erratum feature (Alder/Raptor Lake, Linux ce0b15d11ad8), INVLPG
 *   leaves the global entry of its address while CR4.PCIDE is set.
 * - INVLPGB / TLBSYNC (AMD64 APM Vol. 3, the INVLPGB and TLBSYNC instruction pages; Linux
 *   arch/x86/include/asm/tlb.h, 6.15+): INVLPGB queues its invalidation on every CPU, the
 *   issuer included, and each CPU applies it later as a hardware step of its own (`applyBcast`,
 *   the engine's broadcast actor), so a remote CPU may use and refill the entry until then.
 *   It is weakly ordered: it does not drain the issuer's store buffer (the kernel orders its
 *   PTE stores before it with the LOCK'd `inc_mm_tlb_gen`). TLBSYNC completes only when every
 *   INVLPGB its own CPU issued before it has been applied on every CPU; other CPUs' INVLPGBs
 *   do not hold it. Without the feature both raise #UD. Simplifications: the
 *   invalidations of one issuer at one CPU apply in issue order (invalidations commute, and
 *   TLBSYNC waits for all of them, so no outcome is lost); TLBSYNC is not treated as
 *   serializing (the weaker choice: it can only allow more executions); a PSC invalidation
 *   by address drops the cached upper entries of the range's upper indexes.
 * - Interrupts: delivering one drains the receiving CPU's store buffer, and IRET is
 *   serializing (SDM Vol. 3A "Store Buffer", §11.10 in recent editions: the buffer drains on
 *   the generation of an exception or interrupt and on serializing instructions; §9.3 lists
 *   IRET as serializing). IPIs are sent as `IpiVia` says (LOCK'd, xAPIC store, x2APIC WRMSR).
 *
 * The file is over 300 lines because the machine's state and every rule that mutates it
 * belong together: splitting the rules from the state they guard would only add indirection.
 *
 * Private per-CPU kernel variables (only their owner CPU ever touches them) bypass the store
 * buffer: store forwarding makes their buffering unobservable, and nobody else reads them.
 * The machine checks the ownership claim on every access.
 */
import { EFFECT_KINDS } from './effect-kinds.ts';
import type { AccessOutcome, CrossCall, EffectKind, InvlpgbSpec, IpiVia, RmwOp, SoftWalk } from './effects.ts';

/** mm slots the ghost keeps a generation for (mm ids are small; NO_MM and LOADED_MM_SWITCHING are no slots). */
const MM_SLOTS = 64;
import { Hasher } from './hash.ts';
import type { HwEvent } from './hw-events.ts';
import type { EarlyWalk, PscEntry, TlbEntry } from './tlb.ts';
import { dropWhere, pscFill, pscLookup, tlbFill, tlbLookup } from './tlb.ts';
import {
  type Bounds,
  type CpuId,
  type Features,
  type Loc,
  type MmId,
  type Pfn,
  ENTRIES,
  NOT_ACCESSED,
  NOT_DIRTY,
  PageKind,
  SHARED_KERNEL_OWNER,
  entryAccessed,
  entryGlobal,
  entryLoc,
  entryPfn,
  entryPresent,
  entryDirty,
  entryWritable,
  leafIndex,
  upperIndex,
  vpnOf,
} from './types.ts';

export interface SbEntry {
  /** The word the store writes; -1 for an xAPIC ICR store (`ipi`), which writes no memory. */
  readonly loc: Loc;
  readonly val: number;
  readonly wid: number;
  /** An xAPIC ICR store: draining it raises this IPI. */
  readonly ipi?: { readonly target: CpuId; readonly call: CrossCall };
}

export interface CpuState {
  readonly id: CpuId;
  sb: SbEntry[];
  /** Root table of CR3, or -1 before any load. */
  cr3Root: Pfn;
  cr3Pcid: number;
  pge: boolean;
  tlb: TlbEntry[];
  psc: PscEntry[];
  /** Not-present walks made since the last serializing instruction (see the header). */
  early: EarlyWalk[];
  /** CR4.PCIDE (starts as the PCID feature). */
  pcide: boolean;
  irqOn: boolean;
  /** Nesting depth of interrupt handlers (0 or 1). */
  inIrq: number;
  pending: CrossCall[];
  /** INVLPGB invalidations queued at this CPU and not yet applied (see the header). */
  inbox: BcastInval[];
  walksLeft: number;
  evictionsLeft: number;
  pasidMsr: number;
  /**
   * The CPU's part of the state hash, cached (`hashOk`): computed when a fingerprint needs it,
   * kept while the object is shared between clones, cleared by `Machine.mut` (every change goes
   * through it). An unchanged CPU is not hashed again.
   */
  hashOk: boolean;
  hashA: number;
  hashB: number;
}

/** A CPU's state to read: the machine copies a CPU before it changes it (Machine.mut). */
export type CpuView = { readonly [K in keyof CpuState]: CpuState[K] extends (infer E)[] ? readonly E[] : CpuState[K] };

/** One INVLPGB's invalidation waiting at a CPU: what it matches, and which CPU issued it. */
export interface BcastInval extends InvlpgbSpec {
  readonly from: CpuId;
}

/** Something the hardware did that an invariant may judge. */
export type Observation =
  | {
      readonly o: 'walk-read';
      readonly cpu: CpuId;
      readonly va: number;
      /** mm whose tree the walk is in (owner of the CR3 root). */
      readonly tree: MmId;
      readonly pfn: Pfn;
      readonly level: 'root' | 'leaf';
      readonly kind: PageKind;
      readonly owner: number;
      readonly speculative: boolean;
      /** The walk reached `pfn` through a paging-structure-cache entry. */
      readonly viaPsc: boolean;
      /** A software walker's read (GUP-fast with IRQs off), not the hardware walker's. */
      readonly software?: true;
    }
  | { readonly o: 'use'; readonly cpu: CpuId; readonly va: number; readonly mm: MmId; readonly entry: TlbEntry; readonly step: number }
  | { readonly o: 'fault'; readonly cpu: CpuId; readonly what: string }
  /**
   * An access to user memory on behalf of a task of mm `owner` (a user access, or the kernel's
   * read for current: `kernel`), made with CR3 root `root`. Pushed by the engine, which knows
   * the task; judged by access-through-own-mm.
   */
  | { readonly o: 'own-access'; readonly cpu: CpuId; readonly va: number; readonly owner: MmId; readonly root: Pfn; readonly kernel: boolean };

export interface WalkPlan {
  readonly reads: readonly { pfn: Pfn; level: 'root' | 'leaf'; viaPsc: boolean }[];
  /** The PSC fill, if the walk read the upper entry from memory. */
  readonly psc: PscEntry | undefined;
  /** The TLB fill, if the leaf entry is present. */
  readonly tlb: TlbEntry | undefined;
}

/** The copy-on-write arrays of a machine (`Machine.arrs`). */
const ARR_MEM = 1;
const ARR_WID = 2;
const ARR_ISSUED = 4;
/** pageKind, pageOwner and pageGen, copied together (a page's lifecycle writes them together). */
const ARR_PAGE = 8;
const ARR_MM = 16;
const ARR_ALL = 31;

/** Field by field, in the constructor's order, so every CPU state object has one shape. */
function cloneCpu(c: CpuState): CpuState {
  return {
    id: c.id,
    sb: c.sb.slice(),
    cr3Root: c.cr3Root,
    cr3Pcid: c.cr3Pcid,
    pge: c.pge,
    tlb: c.tlb.slice(),
    psc: c.psc.slice(),
    early: c.early.slice(),
    pcide: c.pcide,
    irqOn: c.irqOn,
    inIrq: c.inIrq,
    pending: c.pending.slice(),
    inbox: c.inbox.slice(),
    walksLeft: c.walksLeft,
    evictionsLeft: c.evictionsLeft,
    pasidMsr: c.pasidMsr,
    hashOk: false,
    hashA: 0,
    hashB: 0,
  };
}

export interface MachineInit {
  readonly features: Features;
  readonly bounds: Bounds;
  readonly cpus: number;
  readonly pages: number;
  readonly vars: number;
  /** Owner CPU of each variable location (index from 0 after the pages), -1 = shared. */
  readonly varOwner: readonly number[];
  /**
   * The only CPU that ever writes each variable location (per-CPU data, `this_cpu_write`),
   * -1 = any. Other CPUs may read such a word; the machine rejects a write by any other CPU.
   */
  readonly varWriter?: readonly number[];
  /** The scenario's virtual addresses: early walks are recorded for these. */
  readonly vas?: readonly number[];
}

const CPU_KEY = new Uint32Array(2);

export class Machine {
  readonly features: Features;
  readonly bounds: Bounds;
  /**
   * Memory words, each a 32-bit signed integer (setMem wraps a value as an Int32Array would).
   * Plain arrays of small integers, like the ghost arrays below and the page arrays: a clone at
   * every explored state copies them, and copying a JS array costs a fraction of what a typed
   * array's slice does (each slice is an ArrayBuffer with external memory for the GC to track).
   */
  mem: readonly number[];
  /**
   * Ghost: version of the value `mem` holds, counted per location in issue order (0 = the
   * initial contents). Page-table entries are written under the page-table lock, one writer
   * at a time, so issue order is their coherence order.
   */
  wid: readonly number[];
  /** Ghost: versions issued so far per location (buffered stores included). */
  issued: readonly number[];
  readonly owner: Int16Array;
  readonly writer: Int16Array;
  pageKind: Uint8Array;
  pageOwner: Int16Array;
  /**
   * Ghost: generation of each page, bumped when it is freed and when it is reused. A TLB entry
   * records the generation of the page it maps when it is filled (no-use-after-free-page).
   */
  pageGen: Int32Array;
  /**
   * Ghost: generation of each mm slot (an mm_struct address), bumped when the mm there is
   * freed and when a new one is allocated there. A TLB entry records its tree's generation.
   */
  mmGen: Int32Array;
  /**
   * Which of the arrays above (memory, its ghost versions, the page and mm arrays) this machine
   * owns: a clone shares its parent's and copies one before its first write to it (`ARR_*`,
   * `writable`), so a step that writes no memory copies none. Code outside writes none of them
   * (but a test machine, properties/broken-machines.ts, swaps memory in place and back).
   */
  private arrs = ARR_ALL;
  /**
   * The CPUs, copy-on-write: a clone shares its parent's CPU objects and copies one (its
   * arrays included) the first time it changes it (`mut`); `owned` has bit c once cpu c is this
   * machine's own. A step changes one or two CPUs, so most of a clone's CPUs stay shared.
   */
  private readonly cpuArr: CpuState[];
  private owned: number;
  /** The addresses the scenario names (the walker's and the early-walk records' domain). */
  readonly vas: readonly number[];
  readonly obs: Observation[] = [];
  /** Current execution step, stamped on fills for the timeline. */
  step = 0;
  /**
   * Zobrist-style hash of memory (all words) and of the ghost versions of page-table words,
   * kept up to date on every write so a fingerprint does not rescan memory.
   */
  private zobA = 0;
  private zobB = 0;
  /** Words below this are page-table pages (their ghost versions count for invariants). */
  private readonly ptWords: number;
  /**
   * What the hardware does, appended while non-null (hw-events.ts): the searches with
   * partial-order reduction set it and derive each step's footprint from it (explore/footprint.ts).
   */
  events: HwEvent[] | null = null;

  /** `from`: copy that machine instead (see `clone`); both paths give objects of one shape. */
  constructor(init: MachineInit, from?: Machine) {
    if (from) {
      this.features = from.features;
      this.bounds = from.bounds;
      this.mem = from.mem;
      this.wid = from.wid;
      this.issued = from.issued;
      this.ptWords = from.ptWords;
      this.owner = from.owner;
      this.writer = from.writer;
      this.pageKind = from.pageKind;
      this.pageOwner = from.pageOwner;
      this.pageGen = from.pageGen;
      this.mmGen = from.mmGen;
      // Both machines now share every array: each copies one before writing it.
      this.arrs = 0;
      from.arrs = 0;
      this.cpuArr = from.cpuArr.slice();
      // Both machines now share every CPU object: each copies one before changing it.
      this.owned = 0;
      from.owned = 0;
      this.vas = from.vas;
      this.step = from.step;
      this.zobA = from.zobA;
      this.zobB = from.zobB;
      return;
    }
    this.features = init.features;
    this.bounds = init.bounds;
    this.vas = init.vas ?? [];
    const words = init.pages * ENTRIES + init.vars;
    this.mem = Array.from({ length: words }, () => 0);
    this.wid = Array.from({ length: words }, () => 0);
    this.issued = Array.from({ length: words }, () => 0);
    this.ptWords = init.pages * ENTRIES;
    this.owner = new Int16Array(words).fill(-1);
    for (let i = 0; i < init.varOwner.length; i++) this.owner[init.pages * ENTRIES + i] = init.varOwner[i]!;
    this.writer = this.owner.slice();
    const ws = init.varWriter ?? [];
    for (let i = 0; i < ws.length; i++) if (ws[i]! >= 0) this.writer[init.pages * ENTRIES + i] = ws[i]!;
    this.pageKind = new Uint8Array(init.pages);
    this.pageOwner = new Int16Array(init.pages);
    this.pageGen = new Int32Array(init.pages);
    this.mmGen = new Int32Array(MM_SLOTS);
    if (init.cpus > 30) throw new Error(`[tlbcheck bug] ${init.cpus} cpus: the copy-on-write mask holds 30`);
    this.owned = (1 << init.cpus) - 1;
    this.cpuArr = [];
    for (let c = 0; c < init.cpus; c++) {
      this.cpuArr.push({
        id: c,
        sb: [],
        cr3Root: -1,
        cr3Pcid: 0,
        pge: init.features.pge,
        tlb: [],
        psc: [],
        early: [],
        pcide: init.features.pcid,
        irqOn: true,
        inIrq: 0,
        pending: [],
        inbox: [],
        walksLeft: init.bounds.walks,
        evictionsLeft: init.bounds.evictions,
        pasidMsr: 0,
        hashOk: false,
        hashA: 0,
        hashB: 0,
      });
    }
  }

  /** An independent copy (TLB/PSC/store-buffer entries are immutable and shared), of the same class. */
  clone(): Machine {
    const Ctor = this.constructor as new (init: MachineInit, from?: Machine) => Machine;
    return new Ctor(undefined as unknown as MachineInit, this); // `init` is unused when copying
  }

  /**
   * Feed everything that decides the machine's future into `h`. Ghost versions count only
   * for page-table pages (below `ptWords`): no invariant reads those of kernel variables.
   * Fill steps are timeline decoration and are left out.
   */
  hashInto(h: Hasher): void {
    h.add(this.zobA);
    h.add(this.zobB);
    for (let i = 0; i < this.pageKind.length; i++) h.add(this.pageKind[i]! * 65536 + this.pageOwner[i]!);
    for (let i = 0; i < this.pageGen.length; i++) if (this.pageGen[i] !== 0) h.add(0x6e000000 + i * 4096 + this.pageGen[i]!);
    for (let i = 0; i < this.mmGen.length; i++) if (this.mmGen[i] !== 0) h.add(0x6d000000 + i * 4096 + this.mmGen[i]!);
    for (const c of this.cpuArr) {
      if (!c.hashOk) {
        const x = new Hasher();
        this.hashCpu(x, c);
        x.key64(CPU_KEY);
        c.hashA = CPU_KEY[0]!;
        c.hashB = CPU_KEY[1]!;
        c.hashOk = true;
      }
      h.add(c.hashA);
      h.add(c.hashB);
    }
  }

  /** Everything of cpu `c` that decides its future (hashInto caches it per CPU object). */
  private hashCpu(h: Hasher, c: CpuView): void {
    h.add(c.cr3Root);
    h.add(c.cr3Pcid + (c.pge ? 4096 : 0) + (c.irqOn ? 8192 : 0) + c.inIrq * 16384 + (c.pcide === this.features.pcid ? 0 : 65536));
    h.add(Math.min(c.walksLeft, 65535) * 256 + c.evictionsLeft);
    h.add(c.pasidMsr);
    h.add(c.sb.length);
    for (const e of c.sb) {
      h.add(e.loc);
      h.add(e.val);
      h.add(e.loc >= 0 && e.loc < this.ptWords ? e.wid : 0);
      if (e.ipi) {
        h.add(e.ipi.target);
        h.addString(e.ipi.call.key);
      }
    }
    h.add(c.tlb.length);
    for (const e of c.tlb) {
      h.add(e.pcid * 65536 + e.vpn);
      h.add(e.pfn * 8 + (e.global ? 1 : 0) + (e.writable ? 0 : 2) + (e.dirty ? 0 : 4));
      h.add(e.rec.upperLoc);
      h.add(e.rec.upperWid);
      h.add(e.rec.leafLoc);
      h.add(e.rec.leafWid);
      if (e.gen !== 0) h.add(0x6f000000 + e.gen);
      if (e.mmGen !== 0) h.add(0x6c000000 + e.mmGen);
    }
    h.add(c.psc.length);
    for (const e of c.psc) {
      h.add(e.pcid * 65536 + e.ui);
      h.add(e.leafPfn);
      h.add(e.loc);
      h.add(e.wid);
    }
    if (c.early.length > 0) {
      h.add(0x7e000000 + c.early.length);
      for (const e of c.early) h.add(e.pcid * 65536 + e.vpn);
    }
    h.add(c.pending.length);
    for (const p of c.pending) {
      h.add(p.sender);
      h.add(p.csd);
      h.addString(p.key);
    }
    if (c.inbox.length > 0) {
      h.add(0x7d000000 + c.inbox.length);
      for (const b of c.inbox) {
        h.add(b.from * 64 + (b.global ? 1 : 0) + (b.finalOnly ? 2 : 0) + (b.va === null ? 4 : 0) + (b.pcid === null ? 8 : 0) + (b.asid === null ? 16 : 0));
        h.add(b.va ?? 0);
        h.add(b.nr * 65536 + (b.pcid ?? 0));
        h.add(b.asid ?? 0);
      }
    }
  }

  /** Toggle word (kind, loc, value) in the Zobrist hash (xor in, xor out). */
  private zob(kind: number, loc: Loc, v: number): void {
    let a = Math.imul(loc * 4 + kind, 0x9e3779b1) ^ Math.imul(v, 0x85ebca6b);
    a ^= a >>> 15;
    a = Math.imul(a, 0x2c1b3c6d);
    a ^= a >>> 12;
    let b = Math.imul(v + 0x7f4a7c15, 0xc2b2ae35) ^ Math.imul(loc * 4 + kind + 1, 0x27d4eb2f);
    b ^= b >>> 16;
    b = Math.imul(b, 0x165667b1);
    b ^= b >>> 13;
    this.zobA ^= a;
    this.zobB ^= b;
  }

  private setMem(loc: Loc, value: number): void {
    const v = value | 0;
    const old = this.mem[loc]!;
    if (old === v) return;
    if (old !== 0) this.zob(0, loc, old);
    if (v !== 0) this.zob(0, loc, v);
    this.writable(ARR_MEM);
    (this.mem as number[])[loc] = v;
  }

  /** Take ownership of the arrays of `bits` (ARR_*), copying each one this machine shares. */
  private writable(bits: number): void {
    const need = bits & ~this.arrs;
    if (need === 0) return;
    if (need & ARR_MEM) this.mem = this.mem.slice();
    if (need & ARR_WID) this.wid = this.wid.slice();
    if (need & ARR_ISSUED) this.issued = this.issued.slice();
    if (need & ARR_PAGE) {
      this.pageKind = this.pageKind.slice();
      this.pageOwner = this.pageOwner.slice();
      this.pageGen = this.pageGen.slice();
    }
    if (need & ARR_MM) this.mmGen = this.mmGen.slice();
    this.arrs |= need;
  }

  private setWid(loc: Loc, w: number): void {
    if (loc < this.ptWords) {
      const old = this.wid[loc]!;
      if (old !== 0) this.zob(1, loc, old);
      if (w !== 0) this.zob(1, loc, w);
    }
    this.writable(ARR_WID);
    (this.wid as number[])[loc] = w;
  }

  private issue(loc: Loc): number {
    const old = this.issued[loc]!;
    const w = old + 1;
    if (loc < this.ptWords) {
      if (old !== 0) this.zob(2, loc, old);
      this.zob(2, loc, w);
    }
    this.writable(ARR_ISSUED);
    (this.issued as number[])[loc] = w;
    return w;
  }

  /**
   * Whether an effect of kind `k` drains the store buffer before it acts (LOCK'd RMW, MFENCE,
   * the serializing instructions; SDM §8.2.5, §9.3), so that the engine may instead wait for
   * the drain actor to empty the buffer. One table for the fact; `Sim` reads it.
   */
  drainsFirst(k: EffectKind): boolean {
    return EFFECT_KINDS[k].drains;
  }

  /** Interrupt delivery drains the receiving CPU's store buffer (SDM §11.10). */
  deliveryDrains(): boolean {
    return true;
  }

  /** The CPUs, to read. */
  get cpus(): readonly CpuView[] {
    return this.cpuArr;
  }

  /** Cpu `c`, to read. */
  cpu(c: CpuId): CpuView {
    const s = this.cpuArr[c];
    if (!s) throw new Error(`[tlbcheck bug] no cpu${c}`);
    return s;
  }

  /** Cpu `c`, to change: copied first if this machine still shares it with the one it was cloned from. */
  mut(c: CpuId): CpuState {
    const bit = 1 << c;
    if ((this.owned & bit) === 0) {
      const s = this.cpuArr[c];
      if (!s) throw new Error(`[tlbcheck bug] no cpu${c}`);
      this.cpuArr[c] = cloneCpu(s);
      this.owned |= bit;
    }
    const own = this.cpuArr[c]!;
    own.hashOk = false;
    return own;
  }

  // ------------------------------------------------------------------ memory (TSO)

  private checkOwner(c: CpuId, loc: Loc): boolean {
    const o = this.owner[loc]!;
    if (o >= 0 && o !== c) throw new Error(`[tlbcheck bug] cpu${c} touched cpu${o}'s private variable at ${loc}`);
    return o >= 0;
  }

  isPrivate(loc: Loc): boolean {
    return this.owner[loc]! >= 0;
  }

  /** Whether `c` is the only CPU that ever writes `loc` (its private or per-CPU data). */
  soleWriter(c: CpuId, loc: Loc): boolean {
    return this.writer[loc] === c;
  }

  isPageTable(loc: Loc): boolean {
    return loc < this.ptWords;
  }

  private checkWriter(c: CpuId, loc: Loc): void {
    const w = this.writer[loc]!;
    if (w >= 0 && w !== c) throw new Error(`[tlbcheck bug] cpu${c} wrote cpu${w}'s per-CPU variable at ${loc}`);
  }

  load(c: CpuId, loc: Loc): number {
    this.checkOwner(c, loc);
    const sb = this.cpu(c).sb;
    this.events?.push({ k: 'load', cpu: c, loc, sb: sb.length });
    for (let i = sb.length - 1; i >= 0; i--) if (sb[i]!.loc === loc) return sb[i]!.val;
    return this.mem[loc]!;
  }

  canStore(c: CpuId, loc: Loc): boolean {
    return this.isPrivate(loc) || this.cpu(c).sb.length < this.bounds.sbDepth;
  }

  store(c: CpuId, loc: Loc, val: number): void {
    this.checkWriter(c, loc);
    const w = this.issue(loc);
    this.events?.push({ k: 'store', cpu: c, loc, buffered: !this.isPrivate(loc) });
    if (this.checkOwner(c, loc)) {
      this.setMem(loc, val);
      this.setWid(loc, w);
      return;
    }
    const cpu = this.mut(c);
    if (cpu.sb.length >= this.bounds.sbDepth) throw new Error('[tlbcheck bug] store to a full store buffer');
    cpu.sb.push({ loc, val, wid: w });
  }

  /** Commit the oldest buffered store of cpu `c` (the drain actor's step). */
  drainOne(c: CpuId): SbEntry {
    const e = this.mut(c).sb.shift();
    if (!e) throw new Error('[tlbcheck bug] drain of an empty store buffer');
    this.events?.push({ k: 'drain', cpu: c, n: 1 });
    this.commit(e);
    return e;
  }

  /** A buffered store reaches memory; an xAPIC ICR store raises its IPI. */
  private commit(e: SbEntry): void {
    if (e.ipi) {
      this.events?.push({ k: 'ipi', target: e.ipi.target });
      this.mut(e.ipi.target).pending.push(e.ipi.call);
      return;
    }
    const before = e.loc < this.ptWords ? this.earlyBefore() : null;
    this.events?.push({ k: 'commit', loc: e.loc });
    this.setMem(e.loc, e.val);
    this.setWid(e.loc, e.wid);
    this.noteEarly(before);
  }

  drainAll(c: CpuId): number {
    const sb = this.cpu(c).sb;
    const n = sb.length;
    // Serializing instructions wait for an empty buffer: that wait reads it (n = 0).
    this.events?.push({ k: 'drain', cpu: c, n });
    for (const e of sb) this.commit(e);
    if (n > 0) this.mut(c).sb.length = 0;
    return n;
  }

  rmw(c: CpuId, loc: Loc, op: RmwOp, a: number, b = 0): number {
    this.checkOwner(c, loc);
    this.checkWriter(c, loc);
    this.drainAll(c);
    this.events?.push({ k: 'rmw', cpu: c, loc });
    const old = this.mem[loc]!;
    let v: number;
    switch (op) {
      case 'bts':
        v = old | (1 << a);
        break;
      case 'btr':
        v = old & ~(1 << a);
        break;
      case 'xadd':
        v = old + a;
        break;
      case 'xchg':
        v = a;
        break;
      case 'cmpxchg':
        v = old === a ? b : old;
        break;
      case 'or':
        v = old | a;
        break;
      case 'and':
        v = old & a;
        break;
      default: {
        const never: never = op;
        throw new Error(`[tlbcheck bug] rmw ${String(never)}`);
      }
    }
    const before = loc < this.ptWords ? this.earlyBefore() : null;
    this.setMem(loc, v);
    this.setWid(loc, this.issue(loc));
    this.noteEarly(before);
    return old;
  }

  /** Latest write id to `loc` visible to cpu `c` (own buffer, else memory): ghost. */
  visibleWid(c: CpuId, loc: Loc): number {
    const sb = this.cpu(c).sb;
    this.events?.push({ k: 'wid', cpu: c, loc });
    for (let i = sb.length - 1; i >= 0; i--) if (sb[i]!.loc === loc) return sb[i]!.wid;
    return this.wid[loc]!;
  }

  // ------------------------------------------------------------------ page lifecycle (ghost)

  setPage(pfn: Pfn, kind: PageKind, owner: number): void {
    this.writable(ARR_PAGE);
    this.pageKind[pfn] = kind;
    this.pageOwner[pfn] = owner;
  }

  freePage(pfn: Pfn): void {
    this.events?.push({ k: 'page-free', pfn });
    this.setPage(pfn, PageKind.Free, 0);
    this.writable(ARR_PAGE);
    this.pageGen[pfn]!++;
  }

  /**
   * The allocator hands `pfn` out as data and its new user overwrites every word. Only a free
   * page can be handed out: for a page still in use this does nothing and returns false.
   */
  reusePage(pfn: Pfn, fill: number): boolean {
    if (this.pageKind[pfn] !== PageKind.Free) {
      this.events?.push({ k: 'page-busy', pfn });
      return false;
    }
    const before = this.earlyBefore();
    try {
      this.reuseWords(pfn, fill);
    } finally {
      this.noteEarly(before);
    }
    return true;
  }

  /**
   * The allocator hands free page `pfn` out as a page table of mm `owner`, its words `words`
   * (index, value) and 0 elsewhere. A page still in use is not handed out: returns false.
   */
  allocTable(pfn: Pfn, level: 'upper' | 'leaf', owner: number, words: readonly (readonly [number, number])[]): boolean {
    if (this.pageKind[pfn] !== PageKind.Free) {
      this.events?.push({ k: 'page-busy', pfn });
      return false;
    }
    const before = this.earlyBefore();
    try {
      this.reuseWords(pfn, 0);
      this.setPage(pfn, level === 'upper' ? PageKind.PtUpper : PageKind.PtLeaf, owner);
      for (const [i, v] of words) {
        const l = entryLoc(pfn, i);
        this.setMem(l, v);
        this.setWid(l, this.issue(l));
      }
    } finally {
      this.noteEarly(before);
    }
    return true;
  }

  /** Ghost: the mm at slot `mm` is allocated or freed (a new generation of the slot either way). */
  mmLife(mm: number): void {
    this.events?.push({ k: 'mm-life' });
    this.writable(ARR_MM);
    this.mmGen[mm]!++;
  }

  private reuseWords(pfn: Pfn, fill: number): void {
    this.events?.push({ k: 'page-reuse', pfn });
    this.setPage(pfn, PageKind.Data, 0);
    this.writable(ARR_PAGE);
    this.pageGen[pfn]!++;
    for (let i = 0; i < ENTRIES; i++) {
      const l = entryLoc(pfn, i);
      this.setMem(l, fill);
      this.setWid(l, this.issue(l));
    }
  }

  /** Write memory directly at setup time. */
  poke(loc: Loc, val: number): void {
    this.setMem(loc, val);
  }

  // ------------------------------------------------------------------ setup

  /** Set CR3 at boot time (no flush, no serialization: nothing has run yet). */
  bootCr3(c: CpuId, root: Pfn, pcid: number): void {
    const cpu = this.mut(c);
    cpu.cr3Root = root;
    cpu.cr3Pcid = pcid;
  }

  /** Boot-time CR4.PCIDE: the kernel left it clear (setup_pcid() turned PCID off). */
  bootPcide(c: CpuId, on: boolean): void {
    const cpu = this.mut(c);
    cpu.pcide = on;
    if (!on) cpu.cr3Pcid = 0;
  }

  /** Boot-time cache contents: walk `va` in (root, pcid) and keep the fills. */
  prefill(c: CpuId, root: Pfn, pcid: number, va: number): void {
    const cpu = this.mut(c);
    const saved = [cpu.cr3Root, cpu.cr3Pcid] as const;
    this.bootCr3(c, root, pcid);
    const plan = this.planWalk(c, va);
    if (plan?.psc) pscFill(cpu.psc, plan.psc);
    if (plan?.tlb) tlbFill(cpu.tlb, plan.tlb);
    this.bootCr3(c, saved[0], saved[1]);
  }

  // ------------------------------------------------------------------ walker

  /** mm whose tree cpu `c`'s CR3 points at, or -1. */
  treeOf(c: CpuId): MmId {
    const r = this.cpu(c).cr3Root;
    return r < 0 ? -1 : this.pageOwner[r]!;
  }

  /**
   * What a walk of `va` on cpu `c` would read and fill, without doing it. Every plan has the
   * same shape (this runs for every walk and every access that misses).
   */
  planWalk(c: CpuId, va: number): WalkPlan | undefined {
    const cpu = this.cpuArr[c]!;
    const root = cpu.cr3Root;
    if (root < 0) return undefined;
    const pcid = cpu.cr3Pcid;
    const ui = upperIndex(va);
    let leafPfn: Pfn;
    let upperLoc: Loc;
    let upperWid: number;
    let psc: PscEntry | undefined;
    let reads: { pfn: Pfn; level: 'root' | 'leaf'; viaPsc: boolean }[];
    const cached = pscLookup(cpu.psc, pcid, ui);
    if (cached) {
      leafPfn = cached.leafPfn;
      upperLoc = cached.loc;
      upperWid = cached.wid;
      reads = [{ pfn: leafPfn, level: 'leaf', viaPsc: true }];
    } else {
      upperLoc = entryLoc(root, ui);
      const ue = this.mem[upperLoc]!;
      if (!entryPresent(ue)) return { reads: [{ pfn: root, level: 'root', viaPsc: false }], psc: undefined, tlb: undefined };
      leafPfn = entryPfn(ue);
      upperWid = this.wid[upperLoc]!;
      psc = { pcid, ui, leafPfn, loc: upperLoc, wid: upperWid, step: this.step };
      reads = [
        { pfn: root, level: 'root', viaPsc: false },
        { pfn: leafPfn, level: 'leaf', viaPsc: false },
      ];
    }
    const leafLoc = entryLoc(leafPfn, leafIndex(va));
    const pte = this.mem[leafLoc]!;
    if (!entryPresent(pte)) return { reads, psc, tlb: undefined };
    const pfn = entryPfn(pte);
    const owner = this.pageOwner[root]!;
    const tlb: TlbEntry = {
      pcid,
      vpn: vpnOf(va),
      pfn,
      global: cpu.pge && entryGlobal(pte),
      writable: entryWritable(pte),
      dirty: entryDirty(pte),
      rec: { upperLoc, upperWid, leafLoc, leafWid: this.wid[leafLoc]!, step: this.step },
      gen: pfn < this.pageGen.length ? this.pageGen[pfn]! : 0,
      mmGen: owner >= 0 && owner < MM_SLOTS ? this.mmGen[owner]! : 0,
    };
    return { reads, psc, tlb };
  }

  private pageIsLiveTable(pfn: Pfn, level: 'root' | 'leaf', tree: MmId): boolean {
    const kind = this.pageKind[pfn];
    const owner = this.pageOwner[pfn];
    if (level === 'root') return kind === PageKind.PtUpper && owner === tree;
    return kind === PageKind.PtLeaf && (owner === tree || owner === SHARED_KERNEL_OWNER);
  }

  /** A speculative walk is worth exploring only if it changes a cache or reads a dead table. */
  walkMatters(c: CpuId, va: number): boolean {
    const saved = this.events;
    this.events = null;
    try {
      return this.walkMattersNow(c, va);
    } finally {
      this.events = saved;
    }
  }

  /** `planWalk` + comparison, without allocating: this runs for every CPU and va at every step. */
  private walkMattersNow(c: CpuId, va: number): boolean {
    const cpu = this.cpus[c]!;
    const root = cpu.cr3Root;
    if (root < 0) return false;
    const tree = this.pageOwner[root]!;
    const pcid = cpu.cr3Pcid;
    const cached = pscLookup(cpu.psc, pcid, upperIndex(va));
    if (!cached) {
      if (!this.pageIsLiveTable(root, 'root', tree)) return true;
      // A present upper entry would be cached in the PSC: a change. A not-present one would
      // be remembered as an early walk, unless it is already.
      return entryPresent(this.mem[entryLoc(root, upperIndex(va))]!);
    }
    if (!this.pageIsLiveTable(cached.leafPfn, 'leaf', tree)) return true;
    const leafLoc = entryLoc(cached.leafPfn, leafIndex(va));
    if (!entryPresent(this.mem[leafLoc]!)) return false;
    // The walker fills the TLB on a miss only; replacing an entry is an eviction and a walk.
    return !tlbLookup(cpu.tlb, pcid, vpnOf(va), cpu.pge);
  }

  private hasEarly(cpu: CpuView, pcid: number, vpn: number): boolean {
    for (const e of cpu.early) if (e.pcid === pcid && e.vpn === vpn) return true;
    return false;
  }

  /** Whether a walk of `va` on cpu `c` would find it not present now (PSC, then memory). */
  private walksNotPresent(c: CpuId, va: number): boolean {
    const cpu = this.cpus[c]!;
    const root = cpu.cr3Root;
    if (root < 0) {
      this.events?.push({ k: 'probe', cpu: c, upper: -1, leaf: -1 });
      return false;
    }
    const cached = pscLookup(cpu.psc, cpu.cr3Pcid, upperIndex(va));
    let leaf: Pfn;
    let upper = -1;
    if (cached) leaf = cached.leafPfn;
    else {
      upper = entryLoc(root, upperIndex(va));
      const ue = this.mem[upper]!;
      if (!entryPresent(ue)) {
        this.events?.push({ k: 'probe', cpu: c, upper, leaf: -1 });
        return true;
      }
      leaf = entryPfn(ue);
    }
    const loc = entryLoc(leaf, leafIndex(va));
    this.events?.push({ k: 'probe', cpu: c, upper, leaf: loc });
    return !entryPresent(this.mem[loc]!);
  }

  /**
   * Early walks, recorded when they can matter. A not-present walk changes what an access can
   * do only if the translation becomes present before the access (else the access faults by
   * its own walk). So instead of a speculative-walk move per not-present result (which would
   * double the state space for walks no access uses), the machine records one at the last
   * moment a walk could have made it: just before a page-table write, a PSC eviction or a page
   * reuse turns `va` from not present to present for that CPU. With unbounded walks (the
   * default) this reaches exactly the outcomes of recording every not-present walk; with a
   * `--walks` budget it is an over-approximation (the recorded walk is free). `before` is the
   * state returned by `earlyBefore()` around the change.
   */
  protected noteEarly(before: readonly boolean[] | null): void {
    if (!before) return;
    let k = 0;
    for (let c = 0; c < this.cpus.length; c++) {
      for (const va of this.vas) {
        const was = before[k++]!;
        const cpu = this.cpus[c]!;
        if (cpu.cr3Root < 0) continue;
        // Evaluated (and its probe event recorded) whatever `was` is.
        const np = this.walksNotPresent(c, va);
        if (!was || np || this.hasEarly(cpu, cpu.cr3Pcid, vpnOf(va))) continue;
        this.events?.push({ k: 'early', cpu: c });
        this.mut(c).early.push({ pcid: cpu.cr3Pcid, vpn: vpnOf(va), step: this.step });
      }
    }
  }

  /**
   * Not-present status of every (CPU, va) before a change that may make some present. Each
   * probe is an event of the step even when no early walk is recorded (so, while events are
   * taken, `noteEarly` probes again after the change): whether two page-table writes leave an
   * early walk behind can depend on their order, so their footprints must meet.
   */
  protected earlyBefore(): boolean[] | null {
    if (this.vas.length === 0) return null;
    const out: boolean[] = [];
    let any = false;
    for (let c = 0; c < this.cpus.length; c++) {
      for (const va of this.vas) {
        const np = this.walksNotPresent(c, va);
        any ||= np;
        out.push(np);
      }
    }
    return any || this.events ? out : null;
  }

  /**
   * A software walker's load of table word `loc` (effects.ts `SoftWalk`): report the page it
   * read as a walk-read, as `walk` does for the hardware walker. The load itself is the
   * caller's (an ordinary TSO load).
   */
  softWalkRead(c: CpuId, loc: Loc, w: SoftWalk, tree: MmId): void {
    const pfn = Math.floor(loc / ENTRIES);
    this.events?.push({ k: 'soft-walk', pfn });
    this.obs.push({
      o: 'walk-read',
      cpu: c,
      va: w.va,
      tree,
      pfn,
      level: w.level,
      kind: this.pageKind[pfn]! as PageKind,
      owner: this.pageOwner[pfn]!,
      speculative: false,
      viaPsc: false,
      software: true,
    });
  }

  /**
   * Perform a walk of `va`: observations for every table page read, then the fills. A
   * speculative walk fills the TLB on a miss only (a not-present result is remembered by
   * `noteEarly`, not here); the
   * walk of an access (`speculative` false) replaces the entry it found unusable. The leaf's
   * accessed flag, and for a `write` its dirty flag, are set by a locked update (SDM §4.8).
   */
  walk(c: CpuId, va: number, speculative: boolean, write = false): WalkPlan | undefined {
    const found = this.planWalk(c, va);
    this.events?.push({ k: 'walk', cpu: c, va, plan: found });
    if (!found) return undefined;
    const plan = found.tlb ? this.setAccessedDirty(found, found.tlb, write) : found;
    const cpu = this.cpu(c);
    this.walkReads(c, va, plan, speculative, this.obs);
    const fillTlb = plan.tlb !== undefined && (!speculative || !tlbLookup(cpu.tlb, cpu.cr3Pcid, plan.tlb.vpn, cpu.pge));
    if (plan.psc || fillTlb || speculative) {
      const w = this.mut(c);
      if (plan.psc) pscFill(w.psc, plan.psc);
      if (fillTlb) tlbFill(w.tlb, plan.tlb!);
      if (speculative) w.walksLeft--;
    }
    return plan;
  }

  /** The observations of a walk that reads what `plan` says, appended to `out`. */
  private walkReads(c: CpuId, va: number, plan: WalkPlan, speculative: boolean, out: Observation[]): void {
    const tree = this.treeOf(c);
    for (const r of plan.reads) {
      out.push({
        o: 'walk-read',
        cpu: c,
        va,
        tree,
        pfn: r.pfn,
        level: r.level,
        kind: this.pageKind[r.pfn]! as PageKind,
        owner: this.pageOwner[r.pfn]!,
        speculative,
        viaPsc: r.viaPsc,
      });
    }
  }

  /**
   * A speculative walk of `va` on cpu `c` as `walk` would make it, without making it: its
   * plan, the hardware events it would append and the observations it would make. Undefined
   * when the walk would write memory (the leaf's accessed flag is clear): that walk changes
   * more than its CPU's caches and must be taken to be judged.
   */
  dryWalk(c: CpuId, va: number): { readonly events: readonly HwEvent[]; readonly obs: readonly Observation[] } | undefined {
    const plan = this.planWalk(c, va);
    const events: HwEvent[] = [{ k: 'walk', cpu: c, va, plan }];
    const obs: Observation[] = [];
    if (!plan) return { events, obs };
    if (plan.tlb && !entryAccessed(this.mem[plan.tlb.rec.leafLoc]!)) return undefined;
    this.walkReads(c, va, plan, true, obs);
    return { events, obs };
  }

  /**
   * The walker's locked update of the leaf entry: A when it is clear, and D too on a write
   * through a writable entry. Returns the plan with the entry as updated.
   */
  protected setAccessedDirty(plan: WalkPlan, e: TlbEntry, write: boolean): WalkPlan {
    const loc = e.rec.leafLoc;
    const pte = this.mem[loc]!;
    let next = pte & ~NOT_ACCESSED;
    if (write && entryWritable(pte)) next &= ~NOT_DIRTY;
    if (next === pte) return plan;
    this.events?.push({ k: 'ad', loc });
    this.setMem(loc, next);
    const wid = this.issue(loc);
    this.setWid(loc, wid);
    return { ...plan, tlb: { ...e, dirty: entryDirty(next), rec: { ...e.rec, leafWid: wid } } };
  }

  /**
   * Whether an access of `va` by cpu `c` may use an early not-present walk: it misses the TLB
   * and a walk since the last serializing instruction found `va` not present.
   */
  earlyFault(c: CpuId, va: number): boolean {
    const cpu = this.cpus[c]!;
    if (cpu.early.length === 0) return false;
    const vpn = vpnOf(va);
    return this.hasEarly(cpu, cpu.cr3Pcid, vpn) && !tlbLookup(cpu.tlb, cpu.cr3Pcid, vpn, cpu.pge);
  }

  /**
   * A user-mode access: the TLB on a hit, else a walk; a not-present result faults. With
   * `early`, it uses an early not-present walk instead (the caller checked `earlyFault`). A
   * write through an entry that is read-only or not dirty walks again; a read-only result
   * faults.
   */
  access(c: CpuId, va: number, write = false, early = false): AccessOutcome {
    const cpu = this.cpu(c);
    this.events?.push({ k: 'access', cpu: c });
    if (early) {
      if (!this.earlyFault(c, va)) throw new Error('[tlbcheck bug] early fault without an early walk');
      return this.pageFault(c, va, 'not-present', true);
    }
    const vpn = vpnOf(va);
    let e = tlbLookup(cpu.tlb, cpu.cr3Pcid, vpn, cpu.pge);
    const viaTlb = e !== undefined && (!write || (e.writable && e.dirty));
    if (!viaTlb) {
      e = this.walk(c, va, false, write)?.tlb;
      if (!e) return this.pageFault(c, va, 'not-present');
      if (write && !e.writable) return this.pageFault(c, va, 'read-only');
    }
    if (!e) throw new Error('[tlbcheck bug] access without a translation');
    this.events?.push({ k: 'use', pfn: e.pfn });
    this.obs.push({ o: 'use', cpu: c, va, mm: this.treeOf(c), entry: e, step: this.step });
    return { ok: true, pfn: e.pfn, viaTlb };
  }

  /**
   * A page fault on `va` (SDM §4.10.4.1): the TLB entries and paging-structure-cache entries
   * of the current PCID that would translate `va` are invalidated, and so is an early walk of
   * it; generating the exception drains the store buffer (§11.10).
   */
  protected pageFault(c: CpuId, va: number, fault: 'not-present' | 'read-only', early = false): AccessOutcome {
    const cpu = this.mut(c);
    this.drainAll(c);
    const pcid = cpu.cr3Pcid;
    const vpn = vpnOf(va);
    const ui = upperIndex(va);
    dropWhere(cpu.tlb, (e) => e.vpn === vpn && (e.pcid === pcid || (cpu.pge && e.global)));
    // Dropping the upper entry may make other addresses under it present: see `noteEarly`.
    const before = this.earlyBefore();
    dropWhere(cpu.psc, (e) => e.pcid === pcid && e.ui === ui);
    this.noteEarly(before);
    dropWhere(cpu.early, (e) => e.pcid === pcid && e.vpn === vpn);
    return early ? { ok: false, fault, early: true } : { ok: false, fault };
  }

  /** The physical word a data access through a translation to `pfn` reads or writes. */
  dataLoc(pfn: Pfn): Loc {
    return entryLoc(pfn, 0);
  }

  /** A data load through the translation of `va` (after `access` succeeded with `r`). */
  loadVia(c: CpuId, r: AccessOutcome): AccessOutcome {
    return r.ok ? { ...r, val: this.load(c, this.dataLoc(r.pfn)) } : r;
  }

  /** Spontaneous eviction (SDM 4.10.2.2): entry `i` of the TLB, then of the PSC. */
  evictables(c: CpuId): number {
    const cpu = this.cpu(c);
    return cpu.evictionsLeft > 0 ? cpu.tlb.length + cpu.psc.length : 0;
  }

  evict(c: CpuId, i: number): string {
    const cpu = this.mut(c);
    this.events?.push({ k: 'evict', cpu: c });
    cpu.evictionsLeft--;
    if (i < cpu.tlb.length) {
      const [e] = cpu.tlb.splice(i, 1);
      return `evict tlb pcid ${e!.pcid} vpn ${e!.vpn}`;
    }
    const before = this.earlyBefore();
    const [p] = cpu.psc.splice(i - cpu.tlb.length, 1);
    this.noteEarly(before);
    return `evict psc pcid ${p!.pcid} upper[${p!.ui}]`;
  }

  // ------------------------------------------------------------------ instructions

  /**
   * What every serializing instruction does to the walker: the early walks are forgotten, so
   * accesses after it use walks made after it (SDM §9.3 in recent editions, "Serializing
   * Instructions"). The caller drains the store buffer first.
   */
  protected serialize(cpu: CpuState): void {
    if (cpu.early.length > 0) cpu.early = [];
  }

  /** MOV to CR3 (serializing). Returns a fault description, or undefined. */
  writeCr3(c: CpuId, root: Pfn, pcid: number, noflush: boolean): string | undefined {
    const cpu = this.mut(c);
    this.drainAll(c);
    this.events?.push({ k: 'insn', cpu: c });
    this.serialize(cpu);
    if (!cpu.pcide && (pcid !== 0 || noflush)) return '#GP: CR3 PCID/NOFLUSH bits with CR4.PCIDE=0';
    cpu.cr3Root = root;
    cpu.cr3Pcid = pcid;
    if (!noflush) {
      // Non-global entries of the new PCID, and its paging-structure caches (SDM 4.10.4.1).
      dropWhere(cpu.tlb, (e) => e.pcid === pcid && !e.global);
      dropWhere(cpu.psc, (e) => e.pcid === pcid);
    }
    return undefined;
  }

  invlpg(c: CpuId, va: number): void {
    const cpu = this.mut(c);
    this.drainAll(c);
    this.events?.push({ k: 'insn', cpu: c });
    this.serialize(cpu);
    const vpn = vpnOf(va);
    const pcid = cpu.cr3Pcid;
    // The invlpg-miss erratum: with CR4.PCIDE set, the global entry may stay (see types.ts).
    const globals = !(this.features['invlpg-miss'] === true && cpu.pcide);
    dropWhere(cpu.tlb, (e) => e.vpn === vpn && (e.global ? globals : e.pcid === pcid));
    dropWhere(cpu.psc, (e) => e.pcid === pcid);
  }

  /** INVPCID: #UD without the feature. */
  invpcid(c: CpuId, type: 0 | 1 | 2 | 3, pcid: number, va: number): string | undefined {
    if (!this.features.invpcid) return '#UD: INVPCID on a CPU without X86_FEATURE_INVPCID';
    const cpu = this.mut(c);
    this.drainAll(c);
    this.events?.push({ k: 'insn', cpu: c });
    this.serialize(cpu);
    const vpn = vpnOf(va);
    switch (type) {
      case 0: // individual address: non-global (pcid, va), and the PCID's PSC entries
        dropWhere(cpu.tlb, (e) => e.pcid === pcid && e.vpn === vpn && !e.global);
        dropWhere(cpu.psc, (e) => e.pcid === pcid);
        break;
      case 1: // single context
        dropWhere(cpu.tlb, (e) => e.pcid === pcid && !e.global);
        dropWhere(cpu.psc, (e) => e.pcid === pcid);
        break;
      case 2: // all contexts, including globals
        cpu.tlb.length = 0;
        cpu.psc.length = 0;
        break;
      case 3: // all contexts, except globals
        dropWhere(cpu.tlb, (e) => !e.global);
        cpu.psc.length = 0;
        break;
    }
    return undefined;
  }

  /** MOV to CR4 changing PGE (PCIDE kept): see `writeCr4`. */
  writePge(c: CpuId, on: boolean): void {
    this.writeCr4(c, on, this.cpu(c).pcide);
  }

  /**
   * MOV to CR4 (serializing). SDM §4.10.4.1: a write that changes PGE, or clears PCIDE,
   * invalidates every TLB and paging-structure-cache entry of every PCID, globals included.
   * Setting PCIDE needs the PCID feature and CR3[11:0] = 0 (#GP otherwise, §4.10.1); with
   * PCIDE clear the current PCID is 0. Returns a fault description, or undefined.
   */
  writeCr4(c: CpuId, pge: boolean, pcide: boolean): string | undefined {
    const cpu = this.mut(c);
    this.drainAll(c);
    this.events?.push({ k: 'insn', cpu: c });
    this.serialize(cpu);
    if (pcide && !cpu.pcide && (!this.features.pcid || cpu.cr3Pcid !== 0)) {
      return this.features.pcid ? '#GP: CR4.PCIDE set with CR3[11:0] != 0' : '#GP: CR4.PCIDE on a CPU without PCID';
    }
    if (cpu.pge !== pge || (cpu.pcide && !pcide)) {
      cpu.tlb.length = 0;
      cpu.psc.length = 0;
    }
    cpu.pge = pge;
    cpu.pcide = pcide;
    if (!pcide) cpu.cr3Pcid = 0;
    return undefined;
  }

  wrmsrPasid(c: CpuId, val: number): void {
    this.drainAll(c);
    this.events?.push({ k: 'insn', cpu: c });
    const cpu = this.mut(c);
    this.serialize(cpu);
    cpu.pasidMsr = val;
  }

  // ------------------------------------------------------------------ broadcast invalidation

  /**
   * INVLPGB: #UD without the feature. Queues the invalidation on every CPU, the issuer
   * included; nothing is invalidated yet (`applyBcast`). Weakly ordered: the store buffer is
   * left alone, so a buffered PTE store may become visible after a CPU applied it.
   */
  invlpgb(c: CpuId, inv: InvlpgbSpec): string | undefined {
    if (!this.features.invlpgb) return '#UD: INVLPGB on a CPU without X86_FEATURE_INVLPGB';
    this.events?.push({ k: 'invlpgb', cpu: c });
    const b: BcastInval = { ...inv, from: c };
    for (let t = 0; t < this.cpus.length; t++) {
      this.mut(t).inbox.push(b);
    }
    return undefined;
  }

  /** The CPUs whose invalidations wait at cpu `t`, each once, in order of their first one. */
  bcastIssuers(t: CpuId): number[] {
    const out: number[] = [];
    for (const b of this.cpu(t).inbox) if (!out.includes(b.from)) out.push(b.from);
    return out;
  }

  /** Whether a TLBSYNC on cpu `c` may complete: no INVLPGB of `c` waits anywhere. */
  tlbsyncDone(c: CpuId): boolean {
    for (const cpu of this.cpus) for (const b of cpu.inbox) if (b.from === c) return false;
    return true;
  }

  /** TLBSYNC, once `tlbsyncDone`: #UD without the feature. Reads every CPU's queue. */
  tlbsync(c: CpuId): string | undefined {
    if (!this.features.invlpgb) return '#UD: TLBSYNC on a CPU without X86_FEATURE_INVLPGB';
    if (!this.tlbsyncDone(c)) throw new Error(`[tlbcheck bug] TLBSYNC on cpu${c} completed with its INVLPGBs pending`);
    // Serializing (effect-kinds.ts): the buffer is empty here when the engine waited for the
    // drain actor; otherwise (FINE_STEPS) it drains in one go, as iret does.
    if (this.drainsFirst('tlbsync')) this.drainAll(c);
    this.events?.push({ k: 'tlbsync', cpu: c });
    return undefined;
  }

  /** Whether `inv` matches TLB entry `e`. */
  protected bcastMatchesTlb(inv: InvlpgbSpec, e: TlbEntry): boolean {
    if (inv.asid !== null && inv.asid !== 0) return false;
    if (inv.va !== null) {
      const v0 = vpnOf(inv.va);
      if (e.vpn < v0 || e.vpn >= v0 + inv.nr) return false;
    }
    if (e.global) return inv.global;
    return inv.pcid === null || e.pcid === inv.pcid;
  }

  /** Whether `inv` matches paging-structure-cache entry `p` (never with `finalOnly`). */
  protected bcastMatchesPsc(inv: InvlpgbSpec, p: PscEntry): boolean {
    if (inv.finalOnly || (inv.asid !== null && inv.asid !== 0)) return false;
    if (inv.pcid !== null && p.pcid !== inv.pcid) return false;
    if (inv.va === null) return true;
    const v0 = vpnOf(inv.va);
    const first = Math.floor(v0 / ENTRIES) % ENTRIES;
    const last = Math.floor((v0 + inv.nr - 1) / ENTRIES) % ENTRIES;
    return first <= last ? p.ui >= first && p.ui <= last : p.ui >= first || p.ui <= last;
  }

  /**
   * The broadcast actor of cpu `t`: apply the oldest invalidation from cpu `from` waiting at
   * `t`. Returns what it dropped, for the trace.
   */
  applyBcast(t: CpuId, from: CpuId): { readonly inv: BcastInval; readonly tlb: number; readonly psc: number } {
    const cpu = this.mut(t);
    const i = cpu.inbox.findIndex((b) => b.from === from);
    if (i < 0) throw new Error(`[tlbcheck bug] no INVLPGB from cpu${from} waits at cpu${t}`);
    const inv = cpu.inbox[i]!;
    cpu.inbox.splice(i, 1);
    this.events?.push({ k: 'bcast', cpu: t });
    const nTlb = cpu.tlb.length;
    dropWhere(cpu.tlb, (e) => this.bcastMatchesTlb(inv, e));
    const nPsc = cpu.psc.length;
    if (cpu.psc.some((p) => this.bcastMatchesPsc(inv, p))) {
      // Dropping an upper entry may make an address present for this CPU: see `noteEarly`.
      const before = this.earlyBefore();
      dropWhere(cpu.psc, (p) => this.bcastMatchesPsc(inv, p));
      this.noteEarly(before);
    }
    return { inv, tlb: nTlb - cpu.tlb.length, psc: nPsc - cpu.psc.length };
  }

  // ------------------------------------------------------------------ interrupts

  /**
   * Queue `call` on `target` and send the IPI (`IpiVia`): `lock` drains the sender's store
   * buffer first (the LOCK'd llist_add); `wrmsr` raises the IPI at once, buffered stores or
   * not; `mmio` appends the ICR store to the buffer (the caller checked `canStore`), and the
   * IPI is raised when it drains.
   */
  queueCall(c: CpuId, target: CpuId, call: CrossCall, via: IpiVia = 'lock'): void {
    if (target === c) throw new Error('[tlbcheck bug] cross-call to self');
    if (via === 'mmio') {
      const cpu = this.mut(c);
      if (cpu.sb.length >= this.bounds.sbDepth) throw new Error('[tlbcheck bug] ICR store to a full store buffer');
      this.events?.push({ k: 'icr-store', cpu: c });
      cpu.sb.push({ loc: -1, val: 0, wid: 0, ipi: { target, call } });
      return;
    }
    if (via === 'lock') this.drainAll(c);
    this.events?.push({ k: 'ipi', target });
    this.mut(target).pending.push(call);
  }

  canDeliver(c: CpuId): boolean {
    const cpu = this.cpu(c);
    return cpu.irqOn && cpu.pending.length > 0;
  }

  /**
   * Interrupt entry: the store buffer drains (SDM §11.10: "generation of an exception or
   * interrupt"), then every queued call is taken (llist_del_all) with IRQs off.
   */
  deliver(c: CpuId): CrossCall[] {
    const cpu = this.mut(c);
    if (this.deliveryDrains()) this.drainAll(c);
    this.events?.push({ k: 'deliver', cpu: c });
    const calls = cpu.pending;
    cpu.pending = [];
    cpu.irqOn = false;
    cpu.inIrq++;
    return calls;
  }

  /** IRET (serializing): back to the interrupted context with IRQs on. */
  iret(c: CpuId): void {
    const cpu = this.mut(c);
    if (this.drainsFirst('iret')) this.drainAll(c);
    // Serializing: it forgets the early walks, so it is ordered with this CPU's walker.
    this.events?.push({ k: 'iret', cpu: c, forgot: cpu.early.length > 0 });
    this.serialize(cpu);
    cpu.inIrq--;
    cpu.irqOn = true;
  }

  setIrq(c: CpuId, on: boolean): void {
    this.events?.push({ k: 'irq', cpu: c });
    this.mut(c).irqOn = on;
  }
}
