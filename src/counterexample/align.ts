/**
 * Replay across variants by alignment. A tape's choice indices mean nothing once a routine
 * gained or lost a step (the fix adds an `smp_mb()`, or moves `load_cr3` after the cpumask
 * bit), so the recorded trace is read as a script of actors' labelled operations instead:
 * "cpu1 switch_mm_irqs_off: mov cr3", "cpu1 walk va 0x1000", "cpu0 drain". On the other
 * variant each recorded step is matched to the move of the same actor:
 *
 * - a hardware event (drain, walk of the same va, IPI delivery) is taken if it is enabled,
 *   else dropped;
 * - a program step of cpu c is taken when cpu c's next operation has the same label (function
 *   and operation, values ignored); when it differs, the recorded step is dropped if cpu c's
 *   next operation appears later in the recording (the other variant lost or moved this
 *   step), otherwise cpu c's operation is taken as an inserted step (the other variant gained
 *   it); a recorded step of a CPU that cannot move is dropped.
 *
 * Labels and wanted moves come from the events' data when the recording has it (a trace made
 * now, or a version-3 or 4 file): the function, the operation's kind and the structural identity
 * of the location it touched (`LocInfo`, never its number; values ignored), a broadcast's issuing CPU, the task a
 * scheduler step switched to, the address a walk walked. A version-1 or 2 file's recording has
 * text only: its labels and moves are read from the text as before.
 *
 * When the recording runs out, the execution goes on with default choices. The first skip or
 * insertion is the first point where the other variant's program takes a different path. The
 * alignment gives up ("diverged") when it keeps inserting steps without consuming the
 * recording.
 */
import { type Model, Sim, type TraceEvent } from '../explore/engine.ts';
import { type Move, MoveKind, packMove } from '../explore/strategy.ts';
import type { Violation } from '../invariants/types.ts';
import { type CanonData, type EventData, canonData } from '../explore/event-data.ts';
import { type DigestRule, digestBy, ruleOf } from './digest.ts';
import { canonicalJson } from './seal.ts';

export interface Difference {
  readonly step: number;
  readonly cpu: number;
  readonly text: string;
}

export type AlignedOutcome = (
  | { readonly kind: 'violated'; readonly violation: Violation; readonly trace: readonly TraceEvent[]; readonly digest: string }
  | { readonly kind: 'passes'; readonly trace: readonly TraceEvent[]; readonly extended: boolean }
  | { readonly kind: 'diverged'; readonly at: number; readonly reason: string; readonly trace: readonly TraceEvent[] }
) & {
  /** First point where the program took a different path than the recording, if any. */
  readonly firstDifference?: Difference;
  readonly skipped: number;
  readonly inserted: number;
  /** The move taken at every step of the aligned execution. */
  readonly moves: readonly Move[];
};

/** A recorded trace event as a file holds it (a version-3 or 4 file: with its canonical data). */
export type RecordedEvent = Pick<TraceEvent, 'step' | 'cpu' | 'actor' | 'fn' | 'text'> & { readonly data?: EventData | CanonData | undefined };

interface Recorded {
  readonly ev: RecordedEvent;
  readonly kind: MoveKind;
  readonly label: string;
}

/** Function and operation of a program step, without the values it read or wrote (from the text: version-1 and 2 recordings). */
export function opLabel(ev: Pick<TraceEvent, 'fn' | 'text'>): string {
  return `${ev.fn}|${ev.text.split(/ = | := |: | \(was /)[0]}`;
}

/**
 * The operands that name an operation, by kind (values read or written are left out): the
 * location's structural identity, the address or target, what the text label named before.
 */
const OPERANDS: Readonly<Partial<Record<EventData['k'], readonly string[]>>> = {
  load: ['at'],
  store: ['at'],
  rmw: ['at', 'op'],
  wait: ['at'],
  drain: ['at'],
  invlpg: ['va'],
  invpcid: ['type', 'pcid', 'va'],
  invlpgb: ['inv'],
  irq: ['on'],
  'ipi-send': ['target', 'func'],
  'ipi-raise': ['target', 'func'],
  access: ['va', 'write'],
  vload: ['va'],
  vstore: ['va'],
  'free-page': ['pfn'],
  'reuse-page': ['pfn'],
  'reuse-refused': ['pfn'],
  assert: ['kind'],
  enter: ['fn'],
  sub: ['fn'],
};

/**
 * The label of an event from its data: function, kind and operands (a location by its
 * `LocInfo`). A cross-call is named by its function and argument, or, when the data is a schema-4 file's
 * (only the call's text) or labels an event to compare with one (`like`), by its text.
 */
export function dataLabel(fn: string, d: EventData | CanonData, like?: EventData | CanonData): string {
  const o = d as Readonly<Record<string, unknown>>;
  const byText = !('func' in (like ?? d));
  // A call by its function and its argument (canonical, so a recording's and a replay's agree), or by its schema-4 text.
  const call = (): unknown => (byText ? o.fn : [o.func, (canonData(d) as Readonly<Record<string, unknown>>).info ?? null]);
  const ops = ((OPERANDS as Readonly<Record<string, readonly string[] | undefined>>)[d.k] ?? []).map((key) => {
    const v = key === 'func' ? call() : o[key];
    // A location is named by what it is, not by its number in one model's layout.
    return v !== null && typeof v === 'object' && 'is' in v ? (v as { is: unknown }).is : v;
  });
  return `${fn}|${d.k}|${canonicalJson(ops)}`;
}

/** The label of a program step: by data when the event has it, else by text; `like`: the recorded event it is compared with. */
export function stepLabel(ev: Pick<RecordedEvent, 'fn' | 'text' | 'data'>, like?: Pick<RecordedEvent, 'data'>): string {
  return ev.data ? dataLabel(ev.fn, ev.data, like?.data) : opLabel(ev);
}

/** A numeric field of an event's data, if it has one. */
function num(d: EventData | CanonData | undefined, key: string): number | undefined {
  const v = d === undefined ? undefined : (d as Readonly<Record<string, unknown>>)[key];
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

const KIND: Partial<Record<TraceEvent['actor'], MoveKind>> = {
  cpu: MoveKind.Prog,
  irq: MoveKind.Prog,
  ipi: MoveKind.Ipi,
  drain: MoveKind.Drain,
  bcast: MoveKind.Bcast,
  walk: MoveKind.Walk,
  evict: MoveKind.Evict,
  sched: MoveKind.Sched,
  nmi: MoveKind.Ipi,
};

/** The steps of a recorded trace (ghost notes, END and assertion reports are not moves). */
export function recordedSteps(trace: readonly RecordedEvent[]): Recorded[] {
  const out: Recorded[] = [];
  let last = 0;
  for (const ev of trace) {
    const kind = KIND[ev.actor];
    if (kind === undefined || ev.step <= last) continue;
    last = ev.step;
    out.push({ ev, kind, label: stepLabel(ev) });
  }
  return out;
}

function wantedMove(r: Recorded, model: Model): Move | undefined {
  const c = r.ev.cpu;
  const d = r.ev.data;
  if (r.kind === MoveKind.Bcast) {
    // The broadcast actor's argument is the issuing CPU (in the data, or named in the text).
    const from = d ? num(d, 'from') : Number(/from cpu(\d+)/.exec(r.ev.text)?.[1] ?? Number.NaN);
    return from === undefined || Number.isNaN(from) ? undefined : packMove(MoveKind.Bcast, c, from);
  }
  if (r.ev.actor === 'nmi') return packMove(MoveKind.Ipi, c, 1);
  if (r.kind === MoveKind.Sched) {
    // The scheduler's argument is the task switched to.
    const t = d ? num(d, 'task') : Number(/\(task(\d+)\)/.exec(r.ev.text)?.[1] ?? Number.NaN);
    return t === undefined || Number.isNaN(t) ? undefined : packMove(MoveKind.Sched, c, t);
  }
  if (r.kind !== MoveKind.Walk) return packMove(r.kind, c, 0);
  const va = d ? num(d, 'va') : Number(/va (0x[0-9a-f]+)/.exec(r.ev.text)?.[1] ?? Number.NaN);
  const i = va === undefined || Number.isNaN(va) ? -1 : model.world.vas.indexOf(va);
  return i < 0 ? undefined : packMove(MoveKind.Walk, c, i);
}

const MAX_INSERTED_RUN = 64;

/**
 * Align `trace` on `model`. A violation's digest is taken by `rule`, the recording's own (a
 * loaded file's: `digestRule`); by default by data when the recording has data, else by text.
 */
export function replayAligned(model: Model, trace: readonly RecordedEvent[], rule: DigestRule = ruleOf(trace)): AlignedOutcome {
  const rec = recordedSteps(trace);
  const sim = Sim.start(model, true);
  let i = 0;
  let skipped = 0;
  let inserted = 0;
  let run = 0;
  let extended = false;
  let first: Difference | undefined;
  const differ = (cpu: number, text: string) => {
    first ??= { step: sim.step + 1, cpu, text };
  };
  let branches = 0;
  const taken: Move[] = [];
  // Branch points keep their tape positions in the trace, as in any other replay.
  const take = (mv: Move, width: number) => {
    taken.push(mv);
    return sim.apply(mv, width > 1 ? branches++ : undefined);
  };
  const stats = () => ({ skipped, inserted, moves: taken, ...(first ? { firstDifference: first } : {}) });
  const trail = () => sim.trace ?? [];
  for (;;) {
    if (sim.violation) break;
    const moves = sim.enabledMoves();
    if (moves.length === 0) {
      sim.finish();
      break;
    }
    const r = rec[i];
    if (!r) {
      extended = true;
      if (!take(moves[0]!, moves.length)) break;
      continue;
    }
    const want = wantedMove(r, model);
    const at = want === undefined ? -1 : moves.indexOf(want);
    const who = `cpu${r.ev.cpu}`;
    if (r.kind !== MoveKind.Prog) {
      i++;
      if (at < 0) {
        skipped++;
        differ(r.ev.cpu, `${who} ${r.ev.actor} "${r.ev.text}" cannot happen here`);
        continue;
      }
      run = 0;
      if (!take(moves[at]!, moves.length)) break;
      continue;
    }
    if (at < 0) {
      i++;
      skipped++;
      differ(r.ev.cpu, `${who} cannot run "${r.ev.fn}: ${r.ev.text}" here (its program is blocked or done)`);
      continue;
    }
    const probe = sim.clone();
    const n = probe.trace?.length ?? 0;
    probe.apply(moves[at]!, undefined);
    const got = probe.trace?.[n];
    // The probe's event is labelled the way the recording is (by data, or by text for an old file).
    const label = got ? (r.ev.data ? stepLabel(got, r.ev) : opLabel(got)) : '';
    if (label === r.label) {
      i++;
      run = 0;
      if (!take(moves[at]!, moves.length)) break;
      continue;
    }
    const later = rec.slice(i + 1).some((x) => x.kind === MoveKind.Prog && x.ev.cpu === r.ev.cpu && x.label === label);
    if (later) {
      i++;
      skipped++;
      differ(r.ev.cpu, `${who} ${got?.fn ?? '?'}: "${got?.text ?? '?'}" comes where the recording has "${r.ev.fn}: ${r.ev.text}"`);
      continue;
    }
    inserted++;
    differ(r.ev.cpu, `${who} ${got?.fn ?? '?'}: "${got?.text ?? '?'}" is a step the recording does not have`);
    if (++run > MAX_INSERTED_RUN) {
      return { kind: 'diverged', at: sim.step + 1, reason: `${who} keeps taking steps the recording does not have`, trace: trail(), ...stats() };
    }
    if (!take(moves[at]!, moves.length)) break;
  }
  const t = trail();
  if (sim.violation) return { kind: 'violated', violation: sim.violation, trace: t, digest: digestBy(rule, t), ...stats() };
  return { kind: 'passes', trace: t, extended, ...stats() };
}
