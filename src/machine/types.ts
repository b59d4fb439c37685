/**
 * Plain data shared by the machine layer and its clients: identifiers, encodings of
 * page-table entries, machine features and hardware budgets.
 *
 * Physical memory is a flat array of words. Page `pfn` holds ENTRIES words at
 * `pfn * ENTRIES .. pfn * ENTRIES + ENTRIES - 1`; kernel variables live after the last page.
 * A virtual address is split as `vpn = va >> 12`, upper index `vpn / ENTRIES`, leaf index
 * `vpn % ENTRIES`: a two-level tree (PGD-like upper table, PTE-like leaf table). Real x86 has
 * four or five levels; two are enough for every hazard in the seeds (a cached upper entry
 * pointing at a freed leaf table is the paging-structure-cache hazard of seed 003, docs/seeds.md).
 */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Entries per page-table page. Small on purpose: the model needs few addresses. */
export const ENTRIES = 16;

export type Pfn = number;
/** An index into simulated memory: a page-table entry or a kernel variable. */
export type Loc = number;
export type CpuId = number;
export type MmId = number;

export const vpnOf = (va: number): number => va >>> PAGE_SHIFT;
export const upperIndex = (va: number): number => Math.floor(vpnOf(va) / ENTRIES) % ENTRIES;
export const leafIndex = (va: number): number => vpnOf(va) % ENTRIES;
export const entryLoc = (pfn: Pfn, index: number): Loc => pfn * ENTRIES + index;

/**
 * Entry encoding, shared by upper and leaf entries: 0 is "not present"; otherwise
 * `pfn * 4 + PRESENT (+ GLOBAL)`, plus three high flag bits stored *inverted*, so that an entry
 * without them is writable, accessed and dirty (SDM §4.8): every entry the kernel scenarios
 * build is one, and their encodings (and state counts) are unchanged. Litmus tests set them
 * to exercise the walker's A/D updates and write accesses. Upper entries are always treated
 * as writable and accessed (a simplification: A/D of non-leaf entries change no translation).
 */
export const PRESENT = 1;
export const GLOBAL = 2;
/** R/W = 0 (read-only). */
export const NOT_WRITABLE = 1 << 24;
/** A = 0: the walker sets A with a locked update when it uses the entry. */
export const NOT_ACCESSED = 1 << 25;
/** D = 0: the first write through the entry sets D with a locked update. */
export const NOT_DIRTY = 1 << 26;
const PFN_MASK = (1 << 24) - 1;
export const makeEntry = (pfn: Pfn, global = false, flags = 0): number => pfn * 4 + PRESENT + (global ? GLOBAL : 0) + flags;
export const entryPresent = (e: number): boolean => (e & PRESENT) !== 0;
export const entryGlobal = (e: number): boolean => (e & GLOBAL) !== 0;
export const entryPfn = (e: number): Pfn => (e & PFN_MASK) >>> 2;
export const entryWritable = (e: number): boolean => (e & NOT_WRITABLE) === 0;
export const entryAccessed = (e: number): boolean => (e & NOT_ACCESSED) === 0;
export const entryDirty = (e: number): boolean => (e & NOT_DIRTY) === 0;

/** Lifecycle of a physical page (ghost state: the hardware does not know it). */
export const enum PageKind {
  Free = 0,
  Data = 1,
  PtUpper = 2,
  PtLeaf = 3,
}

/** `owner` of a kernel page-table page shared by every mm's tree. */
export const SHARED_KERNEL_OWNER = -1;

export interface Features {
  /** CR4.PCIDE: CR3 carries a 12-bit PCID, and bit 63 (NOFLUSH) is honoured. */
  readonly pcid: boolean;
  /** The INVPCID instruction exists; without it, INVPCID raises #UD. */
  readonly invpcid: boolean;
  /** CR4.PGE: global TLB entries survive CR3 writes. */
  readonly pge: boolean;
  /** Page-table isolation is on (X86_FEATURE_PTI); read by kernel routines only. */
  readonly pti: boolean;
  /**
   * AMD broadcast invalidation (X86_FEATURE_INVLPGB, Linux 6.15+): INVLPGB and TLBSYNC exist;
   * without it both raise #UD. An extra feature: absent means off (see `EXTRA_FEATURE_NAMES`).
   */
  readonly invlpgb?: boolean | undefined;
  /**
   * Erratum of Intel Alder Lake / Raptor Lake (Linux ce0b15d11ad8, "x86/mm: Avoid incomplete
   * Global INVLPG flushes", arch/x86/mm/init.c invlpg_miss_ids): with CR4.PCIDE set, INVLPG
   * may leave the global translation of its address in the TLB. An extra feature.
   */
  readonly 'invlpg-miss'?: boolean | undefined;
}

/** The base switches: every feature list prints each of them, on or `-`off. */
export const FEATURE_NAMES = ['pcid', 'invpcid', 'pge', 'pti'] as const;
/**
 * Features added later, off unless named: a feature list prints one only when it is on, and a
 * stored row or counterexample without it has it off. So every row, pin and counterexample
 * written before the feature existed keeps its key and digest.
 */
export const EXTRA_FEATURE_NAMES = ['invlpgb', 'invlpg-miss'] as const;
/** Every feature a `--features` list, a litmus `Features=` line or a header may name. */
export const ALL_FEATURE_NAMES = [...FEATURE_NAMES, ...EXTRA_FEATURE_NAMES] as const;
export type FeatureName = (typeof ALL_FEATURE_NAMES)[number];

export const NO_FEATURES: Features = { pcid: false, invpcid: false, pge: false, pti: false };

/** The base switches of `f`, plus the extra features it turns on (absent when off). */
export function featuresOf(f: Readonly<Partial<Record<FeatureName, boolean | undefined>>>): Features {
  let out: Features = { pcid: f.pcid === true, invpcid: f.invpcid === true, pge: f.pge === true, pti: f.pti === true };
  for (const n of EXTRA_FEATURE_NAMES) if (f[n] === true) out = { ...out, [n]: true };
  return out;
}

export function formatFeatures(f: Features): string {
  const base = FEATURE_NAMES.map((n) => (f[n] ? n : `-${n}`));
  const extra = EXTRA_FEATURE_NAMES.filter((n) => f[n] === true);
  return [...base, ...extra].join(',');
}

/**
 * Hardware budgets. Every exhaustive verdict is relative to them, so they are printed with it.
 */
export interface Bounds {
  /**
   * Speculative walks per CPU per execution (Infinity: unbounded). Walks are enabled only when
   * they would change a cache or read a dead table, so executions end without a bound.
   */
  readonly walks: number;
  /** Store-buffer depth; a plain store to a full buffer waits for a drain (a real stall). */
  readonly sbDepth: number;
  /** Spontaneous TLB/PSC evictions per CPU per execution (SDM 4.10.2.2). */
  readonly evictions: number;
  /** Steps per execution; running out is a `step-limit` finding. */
  readonly maxSteps: number;
  /** Non-default choices per execution for exhaustive search, or undefined for none. */
  readonly preemptions?: number;
}

export const DEFAULT_BOUNDS: Bounds = { walks: Number.POSITIVE_INFINITY, sbDepth: 2, evictions: 0, maxSteps: 400 };

export function formatBounds(b: Bounds): string {
  const p = b.preemptions === undefined ? '' : `, preemptions<=${b.preemptions}`;
  return `walks ${Number.isFinite(b.walks) ? `<=${b.walks}/cpu` : 'unbounded'}, sb-depth<=${b.sbDepth}, evictions<=${b.evictions}/cpu, steps<=${b.maxSteps}${p}`;
}

export const hex = (n: number): string => `0x${n.toString(16)}`;
