/**
 * The counterexample file format, validated with zod. Unbounded budgets are written as null
 * (JSON has no Infinity).
 *
 * Version 5 (written now): as version 2, and every trace event also stores its data in
 * canonical form (`canonData`, explore/event-data.ts: what happened, without display strings,
 * every location named by what it is - an mm and field, a CPU and per-CPU field, a table
 * entry by pfn and index - never by its number in the layout, a cross-call by its function
 * and argument, and a load that kept only some bits of its word, `cpumask_test_cpu`, with
 * those `bits`); strict replay compares the digest of that data (`eventsDigest`, digest.ts),
 * so neither rewording a description nor moving a variable in the layout breaks a stored file.
 * Version 4 (still read): the same, but a cross-call in an IPI event is the text
 * `flush_tlb_func(mmA, ...)` and a load has no `bits` (`canonDataV4`; kernel/call-text.ts
 * renders a replayed call that way, with wording frozen), so it verifies strictly by that. Version 3 (still read): as
 * version 4 with each location's layout number kept in the data (`canonDataV3`); replay reads
 * that data as version 4 (`canonDataV4` drops the numbers), so it verifies strictly by the
 * same digest and survives a layout change too. Version 2 (still read): `digest` is the file
 * digest, SHA-256 over every other field (`seal.ts`), so any edit is detected; replay compares
 * the digest of the trace's text. Version 1 (still read): `digest` is the text digest of the
 * trace only (`digest.ts`); its other fields are not covered.
 */
import { z } from 'zod';
import { generatedSpecSchema } from '../scenario/generated.ts';
import { canonData, canonDataV4 } from '../explore/event-data.ts';
import { canonicalJson } from './seal.ts';

export const SCHEMA_ID = 'tlbcheck-counterexample/5';
export const SCHEMA_V4 = 'tlbcheck-counterexample/4';
export const SCHEMA_V3 = 'tlbcheck-counterexample/3';
export const SCHEMA_V2 = 'tlbcheck-counterexample/2';
export const SCHEMA_V1 = 'tlbcheck-counterexample/1';
export const SCHEMAS: readonly string[] = [SCHEMA_ID, SCHEMA_V4, SCHEMA_V3, SCHEMA_V2, SCHEMA_V1];

/** An event's data in canonical form: its kind, store-buffer depth and operands (explore/event-data.ts). */
const eventData = z.object({ k: z.string().min(1), sb: z.number().int().min(0) }).passthrough();

const traceEvent = z.object({
  step: z.number().int(),
  cpu: z.number().int(),
  actor: z.enum(['cpu', 'irq', 'ipi', 'drain', 'bcast', 'walk', 'evict', 'end', 'ghost', 'sched', 'nmi']),
  fn: z.string(),
  text: z.string(),
  tag: z.string().optional(),
  branch: z.number().int().optional(),
  /** Schemas 3 to 5: the canonical data of the event. */
  data: eventData.optional(),
});

export const counterexampleSchema = z.object({
  schema: z.union([z.literal(SCHEMA_ID), z.literal(SCHEMA_V4), z.literal(SCHEMA_V3), z.literal(SCHEMA_V2), z.literal(SCHEMA_V1)]),
  /** A variant id (kebab-case), never a path: replay looks it up among the built-in variants only. */
  variant: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'a variant id (kebab-case)'),
  /** For a user variant: the file it was loaded from, relative to the counterexample. */
  variantPath: z.string().optional(),
  fixedBy: z.string().optional(),
  scenario: z.string(),
  /** A generated scenario (`scenario: "generated"`): its operations, so replay can rebuild it. Optional: files without it stay valid. */
  generated: generatedSpecSchema.optional(),
  /** A scenario read from a user's file: its JSON, sealed here so replay needs no file. */
  scenarioFile: z.unknown().optional(),
  params: z.object({
    cpus: z.number().int().min(1).max(8),
    mms: z.number().int().min(1).max(8).optional(),
    ops: z.number().int().min(1).max(8).optional(),
  }),
  features: z.object({ pcid: z.boolean(), invpcid: z.boolean(), pge: z.boolean(), pti: z.boolean(), invlpgb: z.boolean().optional(), 'invlpg-miss': z.boolean().optional() }),
  bounds: z.object({
    walks: z.number().int().nullable(),
    sbDepth: z.number().int().min(1),
    evictions: z.number().int().min(0),
    maxSteps: z.number().int().min(1),
    preemptions: z.number().int().min(0).nullable().optional(),
  }),
  invariant: z.string(),
  message: z.string(),
  strategy: z.string(),
  seed: z.number().int(),
  tape: z.array(z.number().int().min(0)),
  widths: z.array(z.number().int().min(1)),
  trace: z.array(traceEvent),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  stats: z
    .object({ steps: z.number().int(), preemptions: z.number().int(), walks: z.number().int(), cpus: z.number().int() })
    .optional(),
}).superRefine((ce, ctx) => {
  // Versions 3 to 5 store the data of every event (their digest is over it); older versions none.
  const withData = ce.schema === SCHEMA_ID || ce.schema === SCHEMA_V4 || ce.schema === SCHEMA_V3;
  const i = ce.trace.findIndex((e) => (e.data !== undefined) !== withData);
  if (i >= 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['trace', i, 'data'], message: withData ? `a ${ce.schema} trace event needs its data` : `only ${SCHEMA_V3} to ${SCHEMA_ID} trace events have data` });
    return;
  }
  // Version 4 and 5 data is canonical: no display string (but a version-4 call's text), no location number.
  if (ce.schema !== SCHEMA_ID && ce.schema !== SCHEMA_V4) return;
  const canon = ce.schema === SCHEMA_ID ? canonData : canonDataV4;
  const j = ce.trace.findIndex((e) => e.data !== undefined && canonicalJson(canon(e.data)) !== canonicalJson(e.data));
  if (j >= 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['trace', j, 'data'], message: `not in canonical form (a ${ce.schema} event names a location by what it is, with no number or display string)` });
});

export type CounterexampleFile = z.infer<typeof counterexampleSchema>;
