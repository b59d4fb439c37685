/**
 * The kernel's data in simulated memory: `mm_struct` fields, per-CPU variables and the
 * cross-call lock words, each at a fixed location. Scenarios build a Layout; routines read
 * it to find their variables (the way C code takes `&mm->context.tlb_gen`).
 */
import { ModelError } from '../errors.ts';
import { ENTRIES, type CpuId, type Loc, type MmId, type Pfn } from '../machine/types.ts';

export const INIT_MM: MmId = 0;
/** `LOADED_MM_SWITCHING` (6.x): a value of `cpu_tlbstate.loaded_mm` that is no real mm. */
export const LOADED_MM_SWITCHING: MmId = 255;
/** `current->mm` of a kernel thread. */
export const NO_MM: MmId = 254;

/**
 * The address of the mm_struct at slot `id`, what `(unsigned long)mm` gives in C: one per
 * slot, so an mm allocated at a freed mm's slot has that mm's address. Far above every
 * ctx_id and pfn the model uses.
 */
export const mmAddress = (id: MmId): number => 0x100000 + id * 0x400;

/** 4.12/4.13 `cpu_tlbstate.state`. */
export const TLBSTATE_OK = 1;
export const TLBSTATE_LAZY = 2;

/**
 * Per-mm shared fields. `global_asid` and `asid_transition` are `mm->context`'s INVLPGB
 * fields (6.15+, arch/x86/include/asm/mmu.h): 0 unless a scenario gives the mm a global ASID.
 * `ctx_id` is `mm->context.ctx_id` (4.13+); `mm_users`/`mm_count` the mm's two reference
 * counts (include/linux/mm_types.h); `slab` is not kernel data but the mm_struct cache's own
 * view of the slot (1: allocated, 0: free), which decides when the address can be handed out
 * again (kernel/fork.c allocate_mm / free_mm). The counts and `slab` are used only by
 * scenarios whose mms are born or die (common/mm-life.ts).
 */
export const MM_FIELDS = ['cpumask', 'tlb_gen', 'pasid', 'global_asid', 'asid_transition'] as const;
/**
 * The mm lifetime words, in a block of their own after every other variable. (They were put
 * here so the others' locations, which schema-3 counterexamples named by number, would not
 * move; schema-4 event data names a location by what it is, so a layout block may grow.)
 */
export const MM_LIFE_FIELDS = ['ctx_id', 'mm_users', 'mm_count', 'slab'] as const;
export type MmField = (typeof MM_FIELDS)[number] | (typeof MM_LIFE_FIELDS)[number];

/**
 * Per-CPU fields. `cur_mm`/`cur_active_mm` stand for `current->mm` and
 * `current->active_mm`; the rest are `cpu_tlbstate` (and KAISER/PTI) fields.
 */
export const PCPU_FIELDS = [
  'loaded_mm',
  'state',
  'active_mm',
  'cur_mm',
  'cur_active_mm',
  'is_lazy',
  'loaded_mm_asid',
  'next_asid',
  'ctx_id0',
  'ctx_gen0',
  'ctx_id1',
  'ctx_gen1',
  'ctx_id2',
  'ctx_gen2',
  'user_pcid_flush_mask',
  'invalidate_other',
  'kaiser_user_cr3',
  'cur_pasid',
] as const;
export type PcpuField = (typeof PCPU_FIELDS)[number];

/** A location as data: a page-table entry, an mm field, a per-CPU field, a cross-call lock, another variable. */
export type LocInfo =
  | { readonly kind: 'table'; readonly pfn: Pfn; readonly index: number }
  | { readonly kind: 'mm'; readonly mm: MmId; readonly field: MmField }
  | { readonly kind: 'pcpu'; readonly cpu: CpuId; readonly field: PcpuField }
  | { readonly kind: 'csd'; readonly sender: CpuId; readonly target: CpuId }
  /** A further named variable: its name is its identity (a litmus location, a variant's own field). */
  | { readonly kind: 'var'; readonly name: string };

export interface MmInfo {
  readonly id: MmId;
  readonly name: string;
  /** Root table (the `pgd`). */
  readonly pgd: Pfn;
  /**
   * 4.13+ `mm->context.ctx_id` of the mm the slot holds at boot (the word `<mm>.ctx_id`; a
   * later mm at the same address gets the next value of `last_mm_ctx_id`, never a reused one).
   */
  readonly ctxId: number;
  /**
   * KAISER/PTI: the user page tables' root (the upper 4k of the 8k pgd pair), when the
   * scenario built one with `WorldBuilder.userPgd`; otherwise the user tables are `pgd`.
   */
  readonly userPgd?: Pfn;
}

export class Layout {
  readonly base: Loc;
  readonly count: number;
  readonly owners: number[] = [];
  /** The only CPU that writes each variable (per-CPU fields, shared ones included), -1 = any. */
  readonly writers: number[] = [];
  private readonly names: string[] = [];
  private readonly mmBase: number;
  private readonly pcpuBase: number;
  private readonly csdBase: number;
  private readonly extraBase: number;
  private readonly lifeBase: number;

  constructor(
    readonly pages: number,
    readonly mms: readonly MmInfo[],
    readonly cpus: number,
    /** Per-CPU fields that other CPUs read (e.g. `is_lazy` from 4.20): they stay in TSO memory. */
    sharedPcpu: ReadonlySet<PcpuField>,
    /** Further named variables (litmus locations and registers); owner -1 = shared. */
    extras: readonly { readonly name: string; readonly owner: number }[] = [],
  ) {
    this.base = pages * ENTRIES;
    let n = 0;
    this.mmBase = n;
    for (const mm of mms) {
      for (const f of MM_FIELDS) {
        this.names.push(`${mm.name}.${f}`);
        this.owners.push(-1);
        this.writers.push(-1);
        n++;
      }
    }
    this.pcpuBase = n;
    for (let c = 0; c < cpus; c++) {
      for (const f of PCPU_FIELDS) {
        this.names.push(`cpu${c}.${f}`);
        this.owners.push(sharedPcpu.has(f) ? -1 : c);
        this.writers.push(c);
        n++;
      }
    }
    this.csdBase = n;
    for (let s = 0; s < cpus; s++) {
      for (let t = 0; t < cpus; t++) {
        this.names.push(`csd[cpu${s}->cpu${t}]`);
        this.owners.push(-1);
        this.writers.push(-1);
        n++;
      }
    }
    this.extraBase = n;
    for (const x of extras) {
      this.names.push(x.name);
      this.owners.push(x.owner);
      this.writers.push(x.owner);
      n++;
    }
    this.lifeBase = n;
    for (const mm of mms) {
      for (const f of MM_LIFE_FIELDS) {
        this.names.push(`${mm.name}.${f}`);
        this.owners.push(-1);
        this.writers.push(-1);
        n++;
      }
    }
    this.count = n;
  }

  /** Whether the scenario declares an extra variable `name`. */
  hasVar(name: string): boolean {
    return this.names.indexOf(name, this.extraBase) >= 0;
  }

  /** Location of an extra variable by name, or undefined (a variant's declared per-CPU or per-mm field). */
  findVar(name: string): Loc | undefined {
    const i = this.names.indexOf(name, this.extraBase);
    return i < 0 ? undefined : this.base + i;
  }

  /** Location of an extra variable by name. */
  varLoc(name: string): Loc {
    const i = this.names.indexOf(name, this.extraBase);
    if (i < 0) throw new Error(`[tlbcheck bug] no variable ${name}`);
    return this.base + i;
  }

  mm(id: MmId): MmInfo {
    const m = this.mms[id];
    if (!m) throw new ModelError(`no mm ${this.mmName(id)} (this scenario has ${this.mms.map((x) => x.name).join(', ')})`);
    return m;
  }

  mmField(mm: MmId, f: MmField): Loc {
    if (!(mm >= 0 && mm < this.mms.length && Number.isInteger(mm))) this.mm(mm);
    const life = (MM_LIFE_FIELDS as readonly string[]).indexOf(f);
    if (life >= 0) return this.base + this.lifeBase + mm * MM_LIFE_FIELDS.length + life;
    return this.base + this.mmBase + mm * MM_FIELDS.length + MM_FIELDS.indexOf(f as (typeof MM_FIELDS)[number]);
  }

  cpumask(mm: MmId): Loc {
    return this.mmField(mm, 'cpumask');
  }

  tlbGen(mm: MmId): Loc {
    return this.mmField(mm, 'tlb_gen');
  }

  pcpu(cpu: CpuId, f: PcpuField): Loc {
    if (!(cpu >= 0 && cpu < this.cpus && Number.isInteger(cpu))) throw new ModelError(`per-CPU data of cpu ${String(cpu)}, which does not exist (cpus 0..${this.cpus - 1})`);
    const i = PCPU_FIELDS.indexOf(f);
    if (i < 0) throw new ModelError(`unknown per-CPU field '${String(f)}'`);
    return this.base + this.pcpuBase + cpu * PCPU_FIELDS.length + i;
  }

  csd(sender: CpuId, target: CpuId): Loc {
    if (!(sender >= 0 && sender < this.cpus && target >= 0 && target < this.cpus)) throw new ModelError(`cross-call lock of cpu ${String(sender)} -> cpu ${String(target)}, which does not exist`);
    return this.base + this.csdBase + sender * this.cpus + target;
  }

  private readonly tableNames = new Map<Loc, string>();

  /** Name the page-table entries of the initial tables: `pte(mmA, va 0x1000)`, `pmd(mmA, va 0x0)`. */
  nameTables(memory: ReadonlyMap<Loc, number>, kernelOwned: (pfn: number) => boolean): void {
    for (const mm of this.mms) {
      for (let ui = 0; ui < ENTRIES; ui++) {
        const upper = mm.pgd * ENTRIES + ui;
        const e = memory.get(upper);
        if (e === undefined || (e & 1) === 0) continue;
        const leaf = e >>> 2;
        const base = ui * ENTRIES * 4096;
        const owner = kernelOwned(leaf) ? 'kernel' : mm.name;
        this.tableNames.set(upper, `pmd(${mm.name}, va 0x${base.toString(16)})`);
        for (let li = 0; li < ENTRIES; li++) {
          const loc = leaf * ENTRIES + li;
          if (!this.tableNames.has(loc)) this.tableNames.set(loc, `pte(${owner}, va 0x${(base + li * 4096).toString(16)})`);
        }
      }
    }
  }

  /** Human name of a location: a kernel variable or a page-table entry. */
  nameOf(loc: Loc): string {
    if (loc >= this.base) return this.names[loc - this.base] ?? `var${loc}`;
    const named = this.tableNames.get(loc);
    if (named) return named;
    const pfn = Math.floor(loc / ENTRIES);
    return `pfn ${pfn}[${loc % ENTRIES}]`;
  }

  /** What a location is, as data (for the trace's structured events). */
  locInfo(loc: Loc): LocInfo {
    if (loc < this.base) return { kind: 'table', pfn: Math.floor(loc / ENTRIES), index: loc % ENTRIES };
    const i = loc - this.base;
    if (i < this.pcpuBase) return { kind: 'mm', mm: Math.floor(i / MM_FIELDS.length), field: MM_FIELDS[i % MM_FIELDS.length]! };
    if (i < this.csdBase) return { kind: 'pcpu', cpu: Math.floor((i - this.pcpuBase) / PCPU_FIELDS.length), field: PCPU_FIELDS[(i - this.pcpuBase) % PCPU_FIELDS.length]! };
    if (i < this.extraBase) return { kind: 'csd', sender: Math.floor((i - this.csdBase) / this.cpus), target: (i - this.csdBase) % this.cpus };
    if (i >= this.lifeBase) return { kind: 'mm', mm: Math.floor((i - this.lifeBase) / MM_LIFE_FIELDS.length), field: MM_LIFE_FIELDS[(i - this.lifeBase) % MM_LIFE_FIELDS.length]! };
    return { kind: 'var', name: this.names[i] ?? `var${loc}` };
  }

  /**
   * The scenario's names of the mms that live at slot `id` one after another (mm lifetimes),
   * and whether the first of them is alive at boot. Set by the model (prepare).
   */
  private readonly lives = new Map<MmId, { readonly names: readonly string[]; readonly atBoot: boolean }>();

  setLives(id: MmId, names: readonly string[], atBoot: boolean): void {
    this.lives.set(id, { names, atBoot });
  }

  /**
   * The name of the mm of generation `gen` of slot `id` (Machine.mmGen, bumped at each free and
   * each allocation; a freed slot keeps the name of the mm that died there): `mmB` for
   * generation 2 of a slot whose boot mm `mmA` died and where `mmB` was allocated.
   */
  mmNameAt(id: MmId, gen: number): string {
    const l = this.lives.get(id);
    if (!l) return this.mmName(id);
    const life = Math.floor((l.atBoot ? gen : Math.max(gen - 1, 0)) / 2);
    return l.names[Math.min(life, l.names.length - 1)] ?? this.mmName(id);
  }

  mmName(id: MmId): string {
    if (id === LOADED_MM_SWITCHING) return 'LOADED_MM_SWITCHING';
    if (id === NO_MM) return 'NULL';
    return this.mms[id]?.name ?? `mm${id}`;
  }
}
