/**
 * What an explainer returns: the causal chain of a violation, computed from the trace's
 * structured data, as links (each with the trace row it points at) and as one paragraph; the
 * races it found (a read and the write it missed); the IPI that was not sent; the stale entry.
 * Rows index the trace (and the timeline's rows, which are the same list).
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';

export interface Link {
  readonly text: string;
  /** Trace row the link is about, when there is one. */
  readonly row?: number;
}

export interface Race {
  /** The read that missed the write. */
  readonly read: number;
  readonly write: number;
  readonly kind: 'buffered' | 'later';
  readonly label: string;
}

export interface Explanation {
  readonly invariant: string;
  readonly links: readonly Link[];
  /** The links joined into one paragraph: "a -> b -> c." */
  readonly text: string;
  readonly races: readonly Race[];
  /** An IPI that the protocol needed and the sender did not send: decided at `row`. */
  readonly noIpi?: { readonly from: number; readonly to: number; readonly row: number };
  /** The stale entry: filled at row `fill` (or at boot) on `cpu`, used at row `use`. */
  readonly stale?: { readonly cpu: number; readonly fill: number | 'boot'; readonly use: number };
}

export type Explainer = (trace: readonly TraceEvent[], v: Violation) => Explanation;

export function paragraph(links: readonly Link[]): string {
  return `${links.map((l) => l.text).join(' -> ')}.`;
}
