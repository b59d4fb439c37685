/**
 * The counterexample file format, validated with zod. Unbounded budgets are written as null
 * (JSON has no Infinity).
 *
 * Version 3 (written now): as version 2, and every trace event also stores its data in
 * canonical form (`canonData`, explore/event-data.ts: what happened, without display strings);
 * strict replay compares the digest of that data (`eventsDigest`, digest.ts), so rewording a
 * description does not break a stored file. Version 2 (still read): `digest` is the file
 * digest, SHA-256 over every other field (`seal.ts`), so any edit is detected; replay compares
 * the digest of the trace's text. Version 1 (still read): `digest` is the text digest of the
 * trace only (`digest.ts`); its other fields are not covered.
 */
import { z } from 'zod';
import { generatedSpecSchema } from '../scenario/generated.ts';

export const SCHEMA_ID = 'tlbcheck-counterexample/3';
export const SCHEMA_V2 = 'tlbcheck-counterexample/2';
export const SCHEMA_V1 = 'tlbcheck-counterexample/1';
export const SCHEMAS: readonly string[] = [SCHEMA_ID, SCHEMA_V2, SCHEMA_V1];

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
  /** Schema 3: the canonical data of the event. */
  data: eventData.optional(),
});

export const counterexampleSchema = z.object({
  schema: z.union([z.literal(SCHEMA_ID), z.literal(SCHEMA_V2), z.literal(SCHEMA_V1)]),
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
  // Version 3 stores the data of every event (its digest is over it); older versions none.
  const v3 = ce.schema === SCHEMA_ID;
  const i = ce.trace.findIndex((e) => (e.data !== undefined) !== v3);
  if (i >= 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['trace', i, 'data'], message: v3 ? `a ${SCHEMA_ID} trace event needs its data` : `only ${SCHEMA_ID} trace events have data` });
});

export type CounterexampleFile = z.infer<typeof counterexampleSchema>;
