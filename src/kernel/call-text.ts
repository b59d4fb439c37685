/**
 * How a queued cross-call reads: `flush_tlb_func(mmA, 0x1000-0x2000, stride_shift 12, ...)`.
 *
 * This text is what counterexample files of schema 4 stored as an IPI event's `fn` (and what
 * their digest covers), so it is frozen: a file written before cross-calls were data is verified
 * by rendering the replayed call with it. Schema-5 files store the call as data (`func`,
 * `info`), and no digest of theirs depends on this wording. The trace text and the explainers
 * show it too; a new wording for them is a new function, not an edit of this one.
 */
import type { CallData, CrossCall } from '../machine/effects.ts';
import { hex } from '../machine/types.ts';

/** Names an mm by its id (the scenario's names: `mmA`). */
export interface MmNames {
  mmName(id: number): string;
}

function field(o: { readonly [key: string]: CallData }, key: string): CallData {
  return o[key];
}

function isMm(v: CallData): v is { readonly t: 'mm'; readonly id: number } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && (v as { t?: CallData }).t === 'mm' && typeof (v as { id?: CallData }).id === 'number';
}

/** The argument of a call as the schema-4 text has it: an mm by name, a struct by its fields, anything else as a string. */
export function infoTextV4(L: MmNames, info: CallData): string {
  if (isMm(info)) return L.mmName(info.id);
  if (typeof info !== 'object' || info === null || Array.isArray(info) || (info as { t?: CallData }).t !== 'struct') return String(info);
  const f = (info as { readonly f: { readonly [key: string]: CallData } }).f;
  // 4.12 names the fields flush_mm, flush_start, flush_end.
  const mm = field(f, 'mm') ?? field(f, 'flush_mm');
  const parts: string[] = [];
  if (isMm(mm)) parts.push(L.mmName(mm.id));
  const start = field(f, 'start') ?? field(f, 'flush_start');
  const end = field(f, 'end') ?? field(f, 'flush_end');
  if (typeof start === 'number' && typeof end === 'number') parts.push(end === -1 ? 'all' : `${hex(start)}-${hex(end)}`);
  const shown = new Set(['mm', 'start', 'end', 'flush_mm', 'flush_start', 'flush_end']);
  for (const [key, v] of Object.entries(f)) {
    if (!shown.has(key)) parts.push(`${key} ${typeof v === 'number' ? v : JSON.stringify(v)}`);
  }
  return parts.join(', ');
}

/** A call as the schema-4 text has it: `func(info)`, or the name alone for a TypeScript handler without an argument. */
export function callTextV4(L: MmNames, c: Pick<CrossCall, 'func' | 'info'>): string {
  return c.info === undefined ? c.func : `${c.func}(${infoTextV4(L, c.info)})`;
}
