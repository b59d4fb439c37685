/**
 * Trace digests.
 *
 * - `eventsDigest` (schema 3, written now): SHA-256 of the canonical JSON of each event's
 *   canonical form - step, cpu, actor, function, tape position and its data without display
 *   strings (`canonData`, explore/event-data.ts). Neither the event's text nor its ordering tag
 *   is covered, so rewording a description leaves the digest unchanged, while a different
 *   value, location or operation changes it.
 * - `traceDigest` (schemas 1 and 2, still read): SHA-256 of the recorded fields, text and tag
 *   included, as those files were sealed.
 */
import { createHash } from 'node:crypto';
import type { TraceEvent } from '../explore/sim.ts';
import { type CanonData, type EventData, canonData } from '../explore/event-data.ts';
import { canonicalJson } from './seal.ts';

/** A trace event as a loaded file holds it (its optional fields may read back as undefined). */
type Recorded = Omit<TraceEvent, 'tag' | 'branch' | 'data'> & {
  readonly tag?: string | undefined;
  readonly branch?: number | undefined;
  readonly data?: EventData | CanonData | undefined;
};

export function traceDigest(trace: readonly (TraceEvent | Recorded)[]): string {
  const canon = trace.map((e) => [e.step, e.cpu, e.actor, e.fn, e.text, e.tag ?? null, e.branch ?? null]);
  return `sha256:${createHash('sha256').update(JSON.stringify(canon)).digest('hex')}`;
}

/** The canonical form of an event: what happened, without any wording. */
export function canonicalEvent(e: TraceEvent | Recorded): { step: number; cpu: number; actor: string; fn: string; branch: number | null; data: CanonData } {
  if (!e.data) throw new Error(`[tlbcheck bug] trace event of step ${e.step} has no data`);
  return { step: e.step, cpu: e.cpu, actor: e.actor, fn: e.fn, branch: e.branch ?? null, data: canonData(e.data) };
}

export function eventsDigest(trace: readonly (TraceEvent | Recorded)[]): string {
  const canon = trace.map(canonicalEvent);
  return `sha256:${createHash('sha256').update(canonicalJson(canon)).digest('hex')}`;
}

/** Whether every event of a recording carries data (then its digest is `eventsDigest`). */
export const hasData = (trace: readonly (TraceEvent | Recorded)[]): boolean => trace.length > 0 && trace.every((e) => e.data !== undefined);

/** The digest of `trace` in the scheme of `recorded`: by data when the recording has it, else by text. */
export function digestLike(recorded: readonly (TraceEvent | Recorded)[], trace: readonly TraceEvent[]): string {
  return hasData(recorded) ? eventsDigest(trace) : traceDigest(trace);
}
