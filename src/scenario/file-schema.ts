/**
 * The scenario file format, `tlbcheck-scenario/1` (JSON, validated with zod). A scenario file
 * says everything a scenario is: its parameters, the world laid out step by step (pages, mms,
 * mappings, in the order the builder allocates them, so page numbers are stable), how each CPU
 * starts and the program each CPU runs. Every built-in scenario is such a file (scenarios/).
 *
 * Numbers may be written as integers or hex strings ("0x1000"). Any item of `setup`, of a
 * program, of `run` or of an address list may carry `"if": "mms>=3"`: it is there only when
 * the condition on a parameter (`cpus`, `mms`, `ops`) holds.
 */
import { z } from 'zod';

export const SCENARIO_SCHEMA_ID = 'tlbcheck-scenario/1';

const hex = z
  .union([z.number().int().min(0), z.string().regex(/^0x[0-9a-fA-F]+$/, 'a number or a hex string like "0x1000"')])
  .transform((v) => (typeof v === 'number' ? v : parseInt(v.slice(2), 16)));

/** `mms>=3`, `ops==2`, `cpus>2`: a condition on one parameter. */
export const COND_RE = /^\s*(cpus|mms|ops)\s*(>=|<=|==|!=|>|<)\s*(\d+)\s*$/;
const cond = z.string().regex(COND_RE, 'a condition like "mms>=3" (on cpus, mms or ops)');
const when = { if: cond.optional() };

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'a name (letters, digits, _ . -)');
/** An mm by name: one the scenario declared, or `init_mm`. */
const mmRef = name;

/** An address, or an address present only when a condition holds. */
const vaItem = z.union([hex, z.object({ va: hex, ...when }).strict()]);

const setupItem = z.union([
  z.object({ page: name, ...when }).strict(),
  /**
   * An mm. Alive at boot, unless `at` or `later` says a `fork` step allocates it: `at` the
   * address of an mm that must be freed first (the pointer kernels compare), `later` a new one.
   */
  z.object({ mm: name, at: mmRef.optional(), later: z.literal(true).optional(), ...when }).strict(),
  z.object({ map: mmRef, va: hex, page: name, flags: hex.optional(), ...when }).strict(),
  z.object({ kmap: hex, page: name, global: z.boolean().default(false), flags: hex.optional(), ...when }).strict(),
  z.object({ table: mmRef, va: hex, ...when }).strict(),
  z.object({ userPgd: mmRef, ...when }).strict(),
  /**
   * The words the mm side's C (src/kernel/c/mm/) reads for `mmSide`: `<mm>.tlb_flush_pending`,
   * `<mm>.tlb_flush_batched` and the split lock `ptl@<pfn>` of each leaf table the mm has so far.
   */
  z.object({ mmSide: mmRef, ...when }).strict(),
  /** A further shared word (`owner`: the only CPU that touches it, e.g. a task's `cpu0.tlb_ubc.writable`). */
  z.object({ var: name, owner: z.number().int().min(0).optional(), ...when }).strict(),
]);

/**
 * A value passed to a C function: a number, `"this_cpu"` (the running CPU's number), an mm
 * (`{"mm": "mmA"}`), or a PTE value mapping a page (`{"pte": "new"}`).
 */
const argVal = z.union([
  z.literal('this_cpu'),
  hex,
  z.object({ mm: mmRef }).strict(),
  z.object({ pte: name, global: z.boolean().optional(), flags: hex.optional() }).strict(),
]);

const stepSchema = z.discriminatedUnion('op', [
  /** context_switch() to a user task of `next`, or to a kernel thread (`"kthread"`: lazy TLB). */
  z.object({ op: z.literal('context_switch'), next: mmRef, ...when }).strict(),
  /** Return to user mode and touch `va` (a write when `write`). */
  z.object({ op: z.literal('user_access'), va: hex, write: z.boolean().optional(), ...when }).strict(),
  /** The kernel touches `va` through the current PCID. */
  z.object({ op: z.literal('kernel_access'), va: hex, ...when }).strict(),
  /**
   * Write a PTE: of `mm` at `va` (set_pte_at), or the kernel's at `va` (`"kernel": true`).
   * The new entry maps `page` (with `global`, `flags`), or is 0 (cleared) without a page.
   */
  z
    .object({
      op: z.literal('set_pte'),
      mm: mmRef.optional(),
      kernel: z.boolean().optional(),
      va: hex,
      page: name.optional(),
      global: z.boolean().optional(),
      flags: hex.optional(),
      ...when,
    })
    .strict(),
  /** `in`: the kernel function it is called from, for the trace (e.g. `exit_mmap`). */
  z.object({ op: z.literal('flush_tlb_mm_range'), mm: mmRef, start: hex, end: hex, freed_tables: z.boolean().optional(), in: name.optional(), ...when }).strict(),
  /**
   * exit_mm(): the running task drops its mm (current->mm = NULL, enter_lazy_tlb), as in
   * do_exit(). In a scenario whose mms are born and die (one with `fork` or a later mm), it
   * then runs mmput(): the last user's exit_mmap() tears the address space down, and the
   * mm is freed when its last reference goes (here, or at a later context switch).
   */
  z.object({ op: z.literal('exit_mm'), mm: mmRef, ...when }).strict(),
  /**
   * fork(): dup_mm() allocates the later mm `mm` (at its address, once that is free),
   * initialises it (init_new_context: a new ctx_id, tlb_gen 0), fills its page tables and
   * wakes its task; a `context_switch` to it on any CPU waits for that.
   */
  z.object({ op: z.literal('fork'), mm: mmRef, ...when }).strict(),
  /**
   * execve(): mm_alloc() allocates the later mm `mm` (at its address, once that is free), and
   * exec_mmap() makes it the running task's mm (activate_mm) and gives the old one up (mmput).
   */
  z.object({ op: z.literal('exec'), mm: mmRef, ...when }).strict(),
  z.object({ op: z.literal('flush_tlb_kernel_range'), start: hex, end: hex, ...when }).strict(),
  z.object({ op: z.literal('update_mm_pasid'), mm: mmRef, pasid: hex, ...when }).strict(),
  /**
   * The table-freeing part of unmap_region: clear the upper entry of `mm` covering `va`, flush
   * [start, end) with freed_tables, free the leaf table, and reuse its page filled with an
   * entry mapping `reuse`.
   */
  z.object({ op: z.literal('free_pgtables'), mm: mmRef, va: hex, start: hex, end: hex, reuse: name, ...when }).strict(),
  /** local_irq_disable() / local_irq_enable() around steps (e.g. a call the kernel makes with IRQs off). */
  z.object({ op: z.literal('local_irq_disable'), ...when }).strict(),
  z.object({ op: z.literal('local_irq_enable'), ...when }).strict(),
  /**
   * An mm-side entry point of the variant's C (`unmap_region`, `madvise_dontneed`, `madvise_free`,
   * `mremap_move` with `new_addr`, `mprotect_readonly`, `shrink_page`, `zap_page_range_single`) on
   * [start, end) of `mm`. The harness records a flush of the range, as the caller saw it under
   * the page-table lock, that counts from the return.
   */
  z.object({ op: z.literal('mm_call'), fn: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a C function name'), mm: mmRef, start: hex, end: hex, new_addr: hex.optional(), ...when }).strict(),
  /**
   * The allocator hands a page out again, if it is free: `page`, or the leaf table of `table`
   * covering `va`; its words become `fill`, or an entry mapping `fillPage` (default 0).
   */
  z.object({ op: z.literal('reuse_page'), page: name.optional(), table: mmRef.optional(), va: hex.optional(), fill: hex.optional(), fillPage: name.optional(), ...when }).strict(),
  /**
   * Huge ioremap/vmalloc over a range 4K pages mapped: pmd_free_pte_page() on the kernel pmd
   * covering `va` (clear, flush, free its PTE page), then the page is reused mapping `reuse`.
   */
  z.object({ op: z.literal('pmd_free_pte_page'), va: hex, reuse: name, ...when }).strict(),
  /**
   * khugepaged's collapse_pte_mapped_thp(): pmdp_collapse_flush() (XCHG the upper entry of `mm`
   * covering `va` to 0, flush_tlb_range(start, end)), then the PTE page is freed and reused.
   */
  z.object({ op: z.literal('collapse_pte_mapped_thp'), mm: mmRef, va: hex, start: hex, end: hex, reuse: name, ...when }).strict(),
  /** Any C function of the variant, by name, with its arguments by parameter name (missing ones are 0). */
  z.object({ op: z.literal('call'), fn: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a C function name'), args: z.record(argVal).optional(), ...when }).strict(),
]);

/** A program part: one step, or steps run as one part (its history is kept until it ends). */
const partSchema = z.union([stepSchema, z.array(stepSchema).min(1)]);

const startSchema = z
  .object({
    mode: z.enum(['user', 'lazy', 'idle']),
    /** The mm it runs or borrows (default init_mm; required for user and lazy). */
    mm: mmRef.optional(),
    cached: z.array(vaItem).optional(),
    others: z.array(z.object({ mm: mmRef, cached: z.array(vaItem), inMask: z.boolean() }).strict()).optional(),
    globalAsid: z.object({ asid: z.number().int().min(1), onGlobal: z.boolean() }).strict().optional(),
  })
  .strict();

/** `cpu0`, `cpu1..` (cpu1 and up), `cpu1..3`, `last` (the highest-numbered CPU). */
export const ON_RE = /^(?:cpu(\d+)(?:\.\.(\d+)?)?|last)$/;

const runSchema = z
  .object({
    on: z.string().regex(ON_RE, 'cpuN, cpuN.., cpuN..M or last'),
    start: startSchema,
    program: z.array(partSchema),
    ...when,
  })
  .strict();

/**
 * A task beyond the one its CPU starts with: it waits on that CPU's runqueue and runs when the
 * scheduler switches to it (a preemption, or the running task's exit). `mm`: its mm, or
 * `"kthread"` (a kernel thread borrows the previous active_mm).
 */
const taskSchema = z
  .object({
    on: z.string().regex(/^cpu\d+$/, 'cpuN'),
    name: z.string().min(1),
    mm: mmRef,
    program: z.array(partSchema),
    ...when,
  })
  .strict();

const paramRange = z
  .object({ min: z.number().int().min(1).max(8), max: z.number().int().min(1).max(8), default: z.number().int().min(1).max(8), what: z.string() })
  .strict()
  .refine((r) => r.min <= r.default && r.default <= r.max, 'needs min <= default <= max');

export const scenarioFileSchema = z
  .object({
    schema: z.literal(SCENARIO_SCHEMA_ID),
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'a scenario id (kebab-case)'),
    title: z.string(),
    /** What each CPU does, for `tlbcheck list`. */
    description: z.string(),
    /** Free text: where the scenario comes from and what it asks. */
    notes: z.string().optional(),
    cpus: z
      .object({ min: z.number().int().min(1).max(8), max: z.number().int().min(1).max(8), default: z.number().int().min(1).max(8) })
      .strict()
      .refine((r) => r.min <= r.default && r.default <= r.max, 'needs min <= default <= max'),
    params: z.object({ mms: paramRange.optional(), ops: paramRange.optional() }).strict().optional(),
    /** Machine features the scenario needs (`check` without them is bad input). */
    features: z.array(z.string()).optional(),
    /** The invariants this scenario expects to matter (default: all). */
    invariants: z.array(z.string()).optional(),
    /** Addresses the speculative walker may walk. */
    vas: z.array(vaItem).min(1),
    setup: z.array(setupItem),
    /** Per CPU, the first entry whose `on` matches it. */
    run: z.array(runSchema).min(1),
    /** Tasks waiting on a CPU's runqueue (tasks distinct from CPUs). */
    tasks: z.array(taskSchema).optional(),
    /** Kernel preemptions one execution may take (where preempt_count is 0 and IRQs are on). */
    preemptions: z.number().int().min(0).max(8).optional(),
    /** NMIs one execution may take (`budget`), each reading user `va` of current with copy_from_user_nmi() (perf). */
    nmi: z.object({ budget: z.number().int().min(0).max(4), va: hex }).strict().optional(),
    /**
     * What `gate --scenario FILE` expects of variants on this scenario: a verdict per variant
     * (and CPU count, default the scenario's; machine features on top of the variant's, e.g. "pcid").
     */
    expect: z
      .array(
        z
          .object({
            variant: z.string().min(1),
            cpus: z.number().int().min(1).max(8).optional(),
            features: z.string().optional(),
            verdict: z.enum(['holds', 'violated']),
            invariant: z.string().optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

export type ScenarioFile = z.infer<typeof scenarioFileSchema>;
export type ScenarioFileInput = z.input<typeof scenarioFileSchema>;
export type Step = z.infer<typeof stepSchema>;
export type Part = z.infer<typeof partSchema>;
export type StartSpec = z.infer<typeof startSchema>;
export type SetupItem = z.infer<typeof setupItem>;
export type ArgVal = z.infer<typeof argVal>;
export type TaskFileSpec = z.infer<typeof taskSchema>;
