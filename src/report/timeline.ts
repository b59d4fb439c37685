/**
 * The timeline of a counterexample, as data both renderers share (HTML page and terminal
 * columns): one row per trace event, placed in a lane of its CPU (program, store buffer,
 * walker, IPI); arrows from an IPI's send to its delivery, from a buffered store to the event
 * that made it visible (a drain, or an instruction that drained the buffer), and from a read
 * that missed a write to that write (the race); the IPI that was not sent; the stale TLB entry
 * from its fill (or from boot) to its bad use; the violated invariant in words and its "why".
 * Pure, and derived from the trace's structured data (explore/event-data.ts), never its text.
 */
import type { TraceEvent } from '../explore/sim.ts';
import { INVARIANTS } from '../invariants/index.ts';
import type { Violation } from '../invariants/types.ts';
import { type Explanation, explain } from './explain/index.ts';
import { Facts } from './explain/facts.ts';
import { label } from './labels.ts';
import { callName } from '../explore/event-data.ts';

export type Lane = 'program' | 'sb' | 'walker' | 'ipi';
export const LANES: readonly Lane[] = ['program', 'sb', 'walker', 'ipi'];
export const LANE_TITLE: Record<Lane, string> = { program: 'program', sb: 'store buffer', walker: 'walker', ipi: 'IPI' };

export interface Row {
  readonly ev: TraceEvent;
  readonly lane: Lane;
  /** A checker note (a flush returned), not a hardware or program step. */
  readonly note: boolean;
}

export interface Arrow {
  readonly kind: 'ipi' | 'store' | 'race';
  readonly from: number;
  readonly to: number;
  readonly label: string;
}

export interface Timeline {
  readonly cpus: number;
  readonly rows: readonly Row[];
  readonly arrows: readonly Arrow[];
  /** Rows of buffered stores that never became visible to other CPUs. */
  readonly unseen: readonly number[];
  /** The lanes each CPU uses (program always; hardware lanes only for actors that act). */
  readonly lanes: readonly (readonly Lane[])[];
  /** Rows of the stale entry's fill ('boot': cached before the execution began) and of its bad use. */
  readonly stale?: { readonly cpu: number; readonly fill: number | 'boot'; readonly use: number };
  /** An IPI the sender should have sent and did not: decided at `row`. */
  readonly noIpi?: { readonly from: number; readonly to: number; readonly row: number };
  readonly violation?: { readonly invariant: string; readonly words: string; readonly message: string; readonly row: number };
  readonly why?: Explanation;
}

const LANE_OF: Record<TraceEvent['actor'], Lane> = {
  cpu: 'program',
  irq: 'program',
  ghost: 'program',
  end: 'program',
  drain: 'sb',
  walk: 'walker',
  evict: 'walker',
  // An applied INVLPGB is an invalidation arriving from outside, as an IPI does.
  bcast: 'ipi',
  sched: 'program',
  nmi: 'program',
  ipi: 'ipi',
};

export function buildTimeline(trace: readonly TraceEvent[], cpus: number, violation?: Violation): Timeline {
  const rows: Row[] = trace.map((ev) => ({ ev, lane: LANE_OF[ev.actor], note: ev.actor === 'ghost' || ev.actor === 'end' }));
  const arrows: Arrow[] = [];
  const f = new Facts(trace);
  const unseen: number[] = [];
  for (const w of f.writes) {
    if (!w.buffered) continue;
    if (!Number.isFinite(w.visible)) {
      unseen.push(w.row);
      continue;
    }
    const by = trace[w.visible]!;
    arrows.push({ kind: 'store', from: w.row, to: w.visible, label: by.actor === 'drain' ? 'visible' : `visible: drained by ${by.fn || by.actor}` });
  }
  trace.forEach((ev, i) => {
    const d = ev.data;
    if (d?.k !== 'ipi-send') return;
    const take = trace.findIndex((x, j) => j > i && x.cpu === d.target && x.data?.k === 'ipi-take' && x.data.calls.some((c) => c.sender === ev.cpu));
    if (take >= 0) arrows.push({ kind: 'ipi', from: i, to: take, label: callName(d) });
  });
  const lanes = Array.from({ length: cpus }, (_, c) => LANES.filter((l) => l === 'program' || rows.some((r) => r.ev.cpu === c && r.lane === l)));
  const base = { cpus, rows, arrows, unseen: unseen.sort((a, b) => a - b), lanes };
  if (!violation) return base;
  let use = -1;
  rows.forEach((r, i) => {
    if (!r.note && r.ev.step === violation.step && (violation.cpu === undefined || r.ev.cpu === violation.cpu)) use = i;
  });
  if (use < 0) use = rows.length - 1;
  const words = INVARIANTS.find((x) => x.id === violation.invariant)?.title ?? violation.invariant;
  const why = explain(trace, violation);
  for (const r of why.races) arrows.push({ kind: 'race', from: r.read, to: r.write, label: r.label });
  const out: Timeline = {
    ...base,
    violation: { invariant: violation.invariant, words, message: violation.message, row: use },
    why,
    ...(why.stale ? { stale: why.stale } : {}),
    ...(why.noIpi ? { noIpi: why.noIpi } : {}),
  };
  if (out.noIpi && !out.lanes[out.noIpi.to]!.includes('ipi')) {
    const l = out.lanes as Lane[][];
    l[out.noIpi.to] = LANES.filter((x) => l[out.noIpi!.to]!.includes(x) || x === 'ipi');
  }
  return out;
}

/** The terminal trace with the timeline's extra facts written into each step, labels from the data. */
export function annotate(tl: Timeline): TraceEvent[] {
  const extra = tl.rows.map(() => [] as string[]);
  for (const a of tl.arrows) {
    const from = tl.rows[a.from]!.ev;
    const to = tl.rows[a.to]!.ev;
    if (a.kind === 'ipi') extra[a.to]!.push(`<- IPI sent at step ${from.step} by cpu${from.cpu}`);
    else if (a.kind === 'store') extra[a.to]!.push(`<- store of step ${from.step} ${a.label}`);
    else extra[a.from]!.push(`<~ RACE: missed cpu${to.cpu}'s write of step ${to.step} (${a.label.replace(/^missed: /, '')})`);
  }
  for (const u of tl.unseen) extra[u]!.push('(still in the store buffer at the end: never visible)');
  if (tl.noIpi) extra[tl.noIpi.row]!.push(`xx NO IPI to cpu${tl.noIpi.to}`);
  if (tl.stale) {
    const { fill, use } = tl.stale;
    if (fill !== 'boot') extra[fill]!.push('<== STALE ENTRY FILLED HERE');
    if (use !== fill) extra[use]!.push(`<== STALE ENTRY (${fill === 'boot' ? 'cached at boot' : `filled at step ${tl.rows[fill]!.ev.step}`}) USED`);
  }
  if (tl.violation) extra[tl.violation.row]!.push(`!! VIOLATION ${tl.violation.invariant}`);
  // The label (built from the data) becomes the text; the data is dropped so it is not used twice.
  return tl.rows.map((r, i) => {
    const { data: _data, ...ev } = r.ev;
    const text = label(r.ev).text;
    return { ...ev, text: extra[i]!.length ? `${text} ${extra[i]!.join(' ')}` : text };
  });
}
