/**
 * A closed world: physical pages and their lifecycle, mms and their page tables, the CPUs'
 * starting state, and the program each CPU runs. `WorldBuilder` lays out page tables the
 * way the kernel would (every user pgd also maps the kernel's shared tables).
 */
import type { K, Routine } from '../kernel/fx.ts';
import { INIT_MM, type MmInfo } from '../kernel/layout.ts';
import type { CoreRoutines, CpuStart } from '../kernel/variant.ts';
import {
  ENTRIES,
  type FeatureName,
  type Loc,
  type MmId,
  PageKind,
  type Pfn,
  SHARED_KERNEL_OWNER,
  entryLoc,
  leafIndex,
  makeEntry,
  upperIndex,
} from '../machine/types.ts';

export type Program = (k: K<CoreRoutines>) => Routine;

/** A program made of parts that run one after another and share no values. */
export interface SegmentedProgram extends Program {
  readonly parts: readonly Program[];
}

/**
 * A program that runs `parts` in order, where no part uses a value an earlier part computed
 * (each closes over constants only). The checker then forgets a finished part's history: two
 * executions that differ only in what an earlier part read reach the same state.
 */
export function inSegments(...parts: Program[]): SegmentedProgram {
  const whole: Program = function* (k) {
    for (const p of parts) yield* p(k);
  };
  return Object.assign(whole, { parts });
}

export interface PageSpec {
  readonly kind: PageKind;
  readonly owner: number;
}

export interface World {
  readonly pages: readonly PageSpec[];
  readonly mms: readonly MmInfo[];
  /** Initial memory contents of page-table pages. */
  readonly memory: ReadonlyMap<Loc, number>;
  /** Addresses the speculative walker may walk. */
  readonly vas: readonly number[];
  readonly cpuStart: readonly CpuStart[];
  readonly programs: readonly Program[];
  /** Named variables beyond the kernel's (litmus locations and registers). */
  readonly extraVars?: readonly { readonly name: string; readonly owner: number }[];
  /**
   * Tasks beyond the one each CPU starts with (tasks.ts): they run on their CPU when the
   * scheduler switches to them, at a preemption or when the running task exits.
   */
  readonly tasks?: readonly TaskSpec[];
  /** Kernel preemptions (switches of a running task) one execution may take; 0 without `tasks`. */
  readonly preemptions?: number;
  /**
   * NMIs one execution may take (`budget`, on any CPU that runs a program, IRQs on or off);
   * each runs the perf-style handler, which reads user address `va` of the interrupted task
   * with the generation's copy_from_user_nmi().
   */
  readonly nmi?: { readonly budget: number; readonly va: number };
  /**
   * mm lifetimes (common/mm-life.ts): mms are born (fork) and die (exit, mmput, mmdrop), and
   * the reference counts are kept. Absent: every mm lives for the whole execution.
   */
  readonly lifetimes?: boolean;
  /** mms not alive at boot: allocated later by fork, at an address (slot) of their own or of a dead mm. */
  readonly laterMms?: readonly LaterMm[];
  /**
   * Per mm alive at boot, its tasks (`mm_users`): the CPUs that start in user
   * mode on it, the waiting tasks with it, and per CPU program one task for each such mm it
   * context-switches to (a program switching back to an mm resumes the same task).
   */
  readonly mmUsers?: readonly (readonly [MmId, number])[];
}

/**
 * An mm that a `fork` step allocates: at `slot` (a fresh address, or the address of an mm that
 * must be freed first), with page tables that fork's dup_mmap fills: each leaf table `pfn`
 * (a free page at boot) under upper index `ui`, holding `words` (index, entry).
 */
export interface LaterMm {
  readonly name: string;
  readonly slot: MmId;
  readonly tables: readonly { readonly ui: number; readonly pfn: Pfn; readonly words: readonly (readonly [number, number])[] }[];
  /** The kernel's upper entries every pgd gets (pgd_alloc copies them): index, entry. */
  readonly kernel: readonly (readonly [number, number])[];
}

/**
 * A task that does not run at boot: it waits on its CPU's runqueue. `mm` is its
 * `current->mm` (NO_MM for a kernel thread, which borrows the previous task's active_mm).
 */
export interface TaskSpec {
  readonly cpu: number;
  readonly mm: MmId;
  readonly name: string;
  readonly program: Program;
}

export interface ScenarioParams {
  readonly cpus: number;
  /** User mms taking part, where the scenario has that knob (`Scenario.mms`). */
  readonly mms?: number;
  /** Operations per CPU, where the scenario has that knob (`Scenario.ops`). */
  readonly ops?: number;
}

/** The range and default of an integer scenario parameter, and what it counts. */
export interface ParamRange {
  readonly min: number;
  readonly max: number;
  readonly default: number;
  readonly what: string;
}

export interface ScenarioExpect {
  readonly variant: string;
  readonly cpus?: number;
  /** Machine features on top of the variant's, e.g. `pcid,-invpcid`. */
  readonly features?: string;
  readonly verdict: 'holds' | 'violated';
  readonly invariant?: string;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** What each CPU does, for `tlbcheck list`. */
  readonly description: string;
  readonly cpus: { readonly min: number; readonly max: number; readonly default: number };
  /** Number of user mms, when the scenario can vary it (`--mms`). */
  readonly mms?: ParamRange;
  /** Operations per CPU, when the scenario can vary it (`--ops`). */
  readonly ops?: ParamRange;
  /** Optional routines the programs call (`flush_tlb_kernel_range`, `update_mm_pasid`); see `scenarioFits`. */
  readonly requires?: readonly ('flush_tlb_kernel_range' | 'update_mm_pasid' | 'mm_call' | 'pmd_free_pte_page' | 'flush_tlb_range' | 'copy_from_user_nmi')[];
  /** Machine features the scenario needs (`check` without them is bad input), e.g. `invlpgb`. */
  readonly features?: readonly FeatureName[];
  /** The invariants the scenario expects to matter (absent: all of them). */
  readonly invariants?: readonly string[];
  /** C functions of the variant its programs call by name (`call` steps); a variant without one is bad input. */
  readonly calls?: readonly string[];
  /** For a scenario read from a user's file: the path and its parsed JSON (sealed into counterexamples). */
  readonly file?: { readonly path: string; readonly json: unknown };
  /** What `gate --scenario FILE` expects of variants on it. */
  readonly expect?: readonly ScenarioExpect[];
  build(p: ScenarioParams): World;
}

export class WorldBuilder {
  readonly pages: PageSpec[] = [];
  readonly mms: MmInfo[] = [];
  readonly memory = new Map<Loc, number>();
  private readonly kernelUpper = new Map<number, Pfn>();

  constructor() {
    this.page(PageKind.Data, 0); // pfn 0 stays unused: a zero entry means "not present"
    this.addMm('init_mm');
  }

  page(kind: PageKind, owner: number): Pfn {
    this.pages.push({ kind, owner });
    return this.pages.length - 1;
  }

  dataPage(): Pfn {
    return this.page(PageKind.Data, 0);
  }

  addMm(name: string): MmInfo {
    const id = this.mms.length;
    const pgd = this.page(PageKind.PtUpper, id);
    const mm: MmInfo = { id, name, pgd, ctxId: id + 1 };
    this.mms.push(mm);
    for (const [ui, leaf] of this.kernelUpper) this.memory.set(entryLoc(pgd, ui), makeEntry(leaf));
    return mm;
  }

  /**
   * An mm that fork allocates later: at the address of `at` (which must die first), or at a
   * new address whose pgd page is free at boot.
   */
  laterMm(name: string, at?: MmInfo): { name: string; slot: MmId; tables: { ui: number; pfn: Pfn; words: [number, number][] }[]; kernel: [number, number][] } {
    let slot: MmId;
    if (at) slot = at.id;
    else {
      slot = this.mms.length;
      const pgd = this.page(PageKind.Free, 0);
      this.mms.push({ id: slot, name, pgd, ctxId: slot + 1 });
    }
    return { name, slot, tables: [], kernel: [...this.kernelUpper].map(([ui, leaf]) => [ui, makeEntry(leaf)] as [number, number]) };
  }

  /** Map `va` -> `pfn` in a later mm's tables (its leaf table is a free page until fork fills it). */
  mapLater(l: { tables: { ui: number; pfn: Pfn; words: [number, number][] }[] }, va: number, pfn: Pfn, flags = 0): void {
    const ui = upperIndex(va);
    let t = l.tables.find((x) => x.ui === ui);
    if (!t) {
      t = { ui, pfn: this.page(PageKind.Free, 0), words: [] };
      l.tables.push(t);
    }
    t.words.push([leafIndex(va), makeEntry(pfn, false, flags)]);
  }

  /** The leaf table of `mm` covering `va`, created if needed. */
  leafTable(mm: MmInfo, va: number): Pfn {
    const loc = entryLoc(mm.pgd, upperIndex(va));
    const e = this.memory.get(loc);
    if (e !== undefined) return e >>> 2;
    const pfn = this.page(PageKind.PtLeaf, mm.id);
    this.memory.set(loc, makeEntry(pfn));
    return pfn;
  }

  /** Map user `va` of `mm` to `pfn` (with `flags`, e.g. NOT_DIRTY); returns the PTE's location. */
  mapUser(mm: MmInfo, va: number, pfn: Pfn, flags = 0): Loc {
    const loc = this.pteLoc(mm, va);
    this.memory.set(loc, makeEntry(pfn, false, flags));
    return loc;
  }

  /** The PTE location of `mm` at `va` when a leaf table covers it (nothing is allocated). */
  findPteLoc(mm: MmInfo, va: number): Loc | undefined {
    const e = this.memory.get(entryLoc(mm.pgd, upperIndex(va)));
    return e === undefined ? undefined : entryLoc(e >>> 2, leafIndex(va));
  }

  /** The kernel PTE location of `va` when a shared kernel table covers it (nothing is allocated). */
  findKernelPteLoc(va: number): Loc | undefined {
    const leaf = this.kernelUpper.get(upperIndex(va));
    return leaf === undefined ? undefined : entryLoc(leaf, leafIndex(va));
  }

  pteLoc(mm: MmInfo, va: number): Loc {
    return entryLoc(this.leafTable(mm, va), leafIndex(va));
  }

  pmdLoc(mm: MmInfo, va: number): Loc {
    return entryLoc(mm.pgd, upperIndex(va));
  }

  /** Map kernel `va` in a table shared by every mm (call before adding user mms). */
  mapKernel(va: number, pfn: Pfn, global: boolean, flags = 0): Loc {
    const ui = upperIndex(va);
    let leaf = this.kernelUpper.get(ui);
    if (leaf === undefined) {
      leaf = this.page(PageKind.PtLeaf, SHARED_KERNEL_OWNER);
      this.kernelUpper.set(ui, leaf);
      for (const mm of this.mms) this.memory.set(entryLoc(mm.pgd, ui), makeEntry(leaf));
    }
    const loc = entryLoc(leaf, leafIndex(va));
    this.memory.set(loc, makeEntry(pfn, global, flags));
    return loc;
  }

  /**
   * KAISER/PTI: give `mm` a separate user pgd that mirrors its user upper entries, as
   * `kaiser_set_shadow_pgd()` / `pti_set_user_pgtbl()` do; kernel tables are not mapped in it.
   * Call after the user mappings are made (later mappings are not mirrored).
   */
  userPgd(mm: MmInfo): Pfn {
    const upgd = this.page(PageKind.PtUpper, mm.id);
    for (let ui = 0; ui < ENTRIES; ui++) {
      if (this.kernelUpper.has(ui)) continue;
      const e = this.memory.get(entryLoc(mm.pgd, ui));
      if (e !== undefined) this.memory.set(entryLoc(upgd, ui), e);
    }
    this.mms[mm.id] = { ...mm, userPgd: upgd };
    return upgd;
  }

  build(vas: readonly number[], cpuStart: readonly CpuStart[], programs: readonly Program[]): World {
    if (cpuStart.length !== programs.length) throw new Error('[tlbcheck bug] one start state per program');
    return { pages: this.pages, mms: this.mms, memory: this.memory, vas, cpuStart, programs };
  }
}

export const userStart = (mm: MmId, cached: readonly number[] = []): CpuStart => ({ mode: 'user', mm, cached });
export const lazyStart = (mm: MmId, cached: readonly number[] = []): CpuStart => ({ mode: 'lazy', mm, cached });
export const idleStart = (): CpuStart => ({ mode: 'idle', mm: INIT_MM, cached: [] });


/** Whether `routines` has every optional routine and every C function (`call` steps) `s` calls. */
export function scenarioFits(s: Scenario, routines: CoreRoutines): boolean {
  return (s.requires ?? []).every((r) => typeof routines[r] === 'function') && (s.calls ?? []).every((fn) => routines.has_c?.(fn) === true);
}
