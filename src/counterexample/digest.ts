/** The trace digest: SHA-256 of the canonical JSON of the trace events. */
import { createHash } from 'node:crypto';
import type { TraceEvent } from '../explore/sim.ts';

export function traceDigest(trace: readonly TraceEvent[]): string {
  const canon = trace.map((e) => [e.step, e.cpu, e.actor, e.fn, e.text, e.tag ?? null, e.branch ?? null]);
  return `sha256:${createHash('sha256').update(JSON.stringify(canon)).digest('hex')}`;
}
