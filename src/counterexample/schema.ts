/**
 * The counterexample file format, version 1, validated with zod. Unbounded budgets are
 * written as null (JSON has no Infinity).
 */
import { z } from 'zod';
import { generatedSpecSchema } from '../scenario/generated.ts';

export const SCHEMA_ID = 'tlbcheck-counterexample/1';

const traceEvent = z.object({
  step: z.number().int(),
  cpu: z.number().int(),
  actor: z.enum(['cpu', 'irq', 'ipi', 'drain', 'walk', 'evict', 'end', 'ghost']),
  fn: z.string(),
  text: z.string(),
  tag: z.string().optional(),
  branch: z.number().int().optional(),
});

export const counterexampleSchema = z.object({
  schema: z.literal(SCHEMA_ID),
  variant: z.string(),
  /** For a user variant: the file it was loaded from, relative to the counterexample. */
  variantPath: z.string().optional(),
  fixedBy: z.string().optional(),
  scenario: z.string(),
  /** A generated scenario (`scenario: "generated"`): its operations, so replay can rebuild it. Optional: files without it stay valid. */
  generated: generatedSpecSchema.optional(),
  params: z.object({
    cpus: z.number().int().min(1).max(8),
    mms: z.number().int().min(1).max(8).optional(),
    ops: z.number().int().min(1).max(8).optional(),
  }),
  features: z.object({ pcid: z.boolean(), invpcid: z.boolean(), pge: z.boolean(), pti: z.boolean() }),
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
});

export type CounterexampleFile = z.infer<typeof counterexampleSchema>;
