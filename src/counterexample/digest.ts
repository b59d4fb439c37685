/**
 * Trace digests.
 *
 * - `eventsDigest` (schema 5, written now): SHA-256 of the canonical JSON of each event's
 *   canonical form - step, cpu, actor, function, tape position and its data without display
 *   strings, with every location named by what it is, never by its number, and every
 *   cross-call by its function and argument (`canonData`, explore/event-data.ts). Neither the
 *   event's text nor its ordering tag is covered, so rewording a description leaves the digest
 *   unchanged, and so does moving a variable in the layout; a different value, location or
 *   operation changes it.
 * - `eventsDigestV4`: the rule schema-4 files are verified by, over `canonDataV4`: as
 *   `eventsDigest`, but a cross-call is its text (kernel/call-text.ts, frozen wording).
 * - `eventsDigestV3`: the rule schema-3 files were written under, over `canonDataV3`, which
 *   keeps each location's number in this model's layout (so any layout change moves it). Those
 *   files are now verified by `eventsDigestV4` over their stored data: `canonDataV4` turns
 *   schema-3 data into schema-4 data (it drops the numbers and names entries by pfn and
 *   index), so a schema-3 file replays strictly after a layout change too.
 * - `traceDigest` (schemas 1 and 2, still read): SHA-256 of the recorded fields, text and tag
 *   included, as those files were sealed.
 */
import { createHash } from 'node:crypto';
import type { TraceEvent } from '../explore/sim.ts';
import { type CanonData, type EventData, canonData, canonDataV3, canonDataV4 } from '../explore/event-data.ts';
import { canonicalJson } from './seal.ts';

/** A trace event as a loaded file holds it (its optional fields may read back as undefined). */
type Recorded = Omit<TraceEvent, 'tag' | 'branch' | 'data'> & {
  readonly tag?: string | undefined;
  readonly branch?: number | undefined;
  readonly data?: EventData | CanonData | undefined;
};

/**
 * How a trace's digest is taken: over its data (schema 5), over its data with each cross-call
 * as its schema-4 text (schemas 3 and 4), or over its text (schemas 1 and 2).
 */
export type DigestRule = 'data' | 'data-v4' | 'text';

export function traceDigest(trace: readonly (TraceEvent | Recorded)[]): string {
  const canon = trace.map((e) => [e.step, e.cpu, e.actor, e.fn, e.text, e.tag ?? null, e.branch ?? null]);
  return `sha256:${createHash('sha256').update(JSON.stringify(canon)).digest('hex')}`;
}

type Canon = (d: EventData | CanonData) => CanonData;

/** The canonical form of an event: what happened, without any wording (and, by default, without any location number). */
export function canonicalEvent(e: TraceEvent | Recorded, canon: Canon = canonData): { step: number; cpu: number; actor: string; fn: string; branch: number | null; data: CanonData } {
  if (!e.data) throw new Error(`[tlbcheck bug] trace event of step ${e.step} has no data`);
  return { step: e.step, cpu: e.cpu, actor: e.actor, fn: e.fn, branch: e.branch ?? null, data: canon(e.data) };
}

function digestOver(trace: readonly (TraceEvent | Recorded)[], canon: Canon): string {
  const events = trace.map((e) => canonicalEvent(e, canon));
  return `sha256:${createHash('sha256').update(canonicalJson(events)).digest('hex')}`;
}

export const eventsDigest = (trace: readonly (TraceEvent | Recorded)[]): string => digestOver(trace, canonData);

export const eventsDigestV4 = (trace: readonly (TraceEvent | Recorded)[]): string => digestOver(trace, canonDataV4);

export const eventsDigestV3 = (trace: readonly (TraceEvent | Recorded)[]): string => digestOver(trace, canonDataV3);

export function digestBy(rule: DigestRule, trace: readonly (TraceEvent | Recorded)[]): string {
  return rule === 'data' ? eventsDigest(trace) : rule === 'data-v4' ? eventsDigestV4(trace) : traceDigest(trace);
}

/** Whether every event of a recording carries data (then its digest is over the data). */
export const hasData = (trace: readonly (TraceEvent | Recorded)[]): boolean => trace.length > 0 && trace.every((e) => e.data !== undefined);

/** The rule of a recording that says nothing else about itself: by data when it has it (as a trace made now), else by text. */
export const ruleOf = (recorded: readonly (TraceEvent | Recorded)[]): DigestRule => (hasData(recorded) ? 'data' : 'text');
