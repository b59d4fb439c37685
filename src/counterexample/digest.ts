/** The trace digest: SHA-256 of the canonical JSON of the trace events. */
import { createHash } from 'node:crypto';
import type { TraceEvent } from '../explore/sim.ts';

/** A trace event as a loaded file holds it (its optional fields may read back as undefined). */
type Recorded = Omit<TraceEvent, 'tag' | 'branch'> & { readonly tag?: string | undefined; readonly branch?: number | undefined };

export function traceDigest(trace: readonly (TraceEvent | Recorded)[]): string {
  const canon = trace.map((e) => [e.step, e.cpu, e.actor, e.fn, e.text, e.tag ?? null, e.branch ?? null]);
  return `sha256:${createHash('sha256').update(JSON.stringify(canon)).digest('hex')}`;
}
