/**
 * The middle of every shootdown story, shared by the explainers of stale TLB use, stale
 * kernel translations, walks through freed tables and per-mm state: the updater `F` changed
 * something at row `change` and returned at row `ret`; did cpu `V` get the IPI, and if not,
 * which of `F`'s reads decided against it (and which write of `V` that read missed); if it
 * did, why its handler left the old state alone; and which of `V`'s own reads missed `F`'s
 * writes. Everything is read off the trace's structured data.
 */
import { type LocRef, callName } from '../../explore/event-data.ts';
import type { InvlpgbSpec } from '../../machine/effects.ts';
import type { Facts, Miss, Read } from './facts.ts';
import type { Link, Race } from './types.ts';
import { hexva, missLabel, missText, readText, who } from './words.ts';

export interface Story {
  readonly links: Link[];
  readonly races: Race[];
  noIpi?: { from: number; to: number; row: number };
}

/** Locations whose reads decide whether `F` must reach `V`: the mm's fields and `V`'s per-CPU state. */
const decides = (r: Read, victim: number): boolean =>
  (r.at.is.kind === 'mm' && (r.bits === undefined || (r.bits & (2 ** victim)) !== 0)) || (r.at.is.kind === 'pcpu' && r.at.is.cpu === victim);
/** Locations whose reads by `V` decide whether it picks up `F`'s change. */
const picksUp = (at: LocRef, updater: number): boolean => at.is.kind === 'mm' || at.is.kind === 'table' || (at.is.kind === 'pcpu' && at.is.cpu === updater);

function race(m: Miss): Race {
  return { read: m.read.row, write: m.write.row, kind: m.kind, label: missLabel(m) };
}

/** The last CR3 load of `cpu` before `row`. */
function cr3Before(f: Facts, cpu: number, row: number): number | undefined {
  return f.rows((d, ev, r) => d.k === 'cr3' && ev.cpu === cpu && r < row).at(-1);
}

/**
 * The victim cleared its own bit in the mm's cpumask (a LOCK BTR) before the flusher's read of
 * the mask, and wrote no CR3 between that clear and its use: its CR3 still pointed at the tables
 * the mask stood for (switch_mm_irqs_off() of 4.14-4.20 clears the previous mm's bit before its
 * CR3 write). Undefined when that is not what happened.
 */
const isBtr = (f: Facts, row: number): boolean => {
  const d = f.data(row);
  return d?.k === 'rmw' && d.op === 'btr';
};

function leftTheMask(f: Facts, V: number, read: Read, use: number): Link | undefined {
  if (read.at.is.kind !== 'mm' || read.at.is.field !== 'cpumask' || (read.val.v >> V) & 1) return undefined;
  const clear = f.writes.filter((w) => w.cpu === V && w.at.loc === read.at.loc && w.row < read.row && isBtr(f, w.row)).at(-1);
  if (clear === undefined) return undefined;
  if (f.rows((d, ev, r) => d.k === 'cr3' && ev.cpu === V && r > clear.row && r < use).length > 0) return undefined;
  const loaded = cr3Before(f, V, clear.row);
  const mm = read.at.name.split('.')[0];
  return {
    text:
      `cpu${V}'s ${f.ev(clear.row).fn} cleared its own bit in ${read.at.name} (lock btr) at step ${f.step(clear.row)}, before its CR3 write: ` +
      `CR3 still pointed at ${mm}'s tables${loaded === undefined ? '' : ` (loaded at step ${f.step(loaded)})`} and was not written again before step ${f.step(use)}`,
    row: clear.row,
  };
}

/** A flusher's read that missed a write of the victim, with what made it bad. */
function updaterMissText(f: Facts, m: Miss, change: number | undefined): string {
  let s = missText(f, m);
  if (m.kind === 'later') {
    const cr3 = cr3Before(f, m.write.cpu, m.write.row);
    if (cr3 !== undefined && cr3 < m.read.row) s += ` (cpu${m.write.cpu} had loaded CR3 already at step ${f.step(cr3)})`;
    const ch = change === undefined ? undefined : f.writes.find((w) => w.row === change);
    if (ch && ch.cpu === m.read.cpu && ch.buffered && ch.visible > m.read.row) {
      s += `, while its own ${ch.what} was still in its store buffer (no barrier between them)`;
    }
  }
  return s;
}

/** The entry whose invalidation is in question: its address and PCID (any, when unknown). */
export interface Target {
  readonly va?: number;
  readonly pcid?: number;
}

export function shootdown(f: Facts, F: number, V: number, change: number | undefined, ret: number, use: number, target: Target = {}): Story {
  const va = target.va;
  const links: Link[] = [];
  const races: Race[] = [];
  const story: Story = { links, races };
  const from = change ?? 0;
  /** The victim took itself out of the mask while still on the mm's tables (the switch-away window). */
  let switchAway = false;
  const sends = f.rows((d, ev, r) => d.k === 'ipi-send' && ev.cpu === F && d.target === V && r > from && r < ret);
  if (F === V) {
    // The caller's own TLB (an mm entry point that returned: munmap, madvise, mprotect): no
    // IPI is involved, only whether it flushed itself before returning.
    const own = f.rows((d, ev, r) => (d.k === 'invlpg' || d.k === 'cr3' || d.k === 'invpcid') && ev.cpu === F && r > from && r < ret);
    links.push({
      text: own.length === 0 ? `cpu${F} flushed nothing of its own TLB and returned at step ${f.step(ret)}` : `cpu${F} returned at step ${f.step(ret)}`,
      row: ret,
    });
    return story;
  }
  if (sends.length === 0) {
    const reads = f.reads.filter((r) => r.cpu === F && r.row > from && r.row <= ret && decides(r, V));
    const misses = reads.flatMap((r) => f.missed(r, use, V));
    const first = misses[0];
    let decided: Read | undefined;
    if (first) {
      links.push({ text: updaterMissText(f, first, change), row: first.read.row });
      races.push(race(first));
      decided = first.read;
    } else {
      decided = reads.at(-1);
      const left = decided === undefined ? undefined : leftTheMask(f, V, decided, use);
      if (left) {
        links.push(left);
        switchAway = true;
      }
      if (decided) links.push({ text: readText(f, decided), row: decided.row });
    }
    const bc = broadcast(f, F, V, from, ret, use, target);
    if (bc) links.push(bc);
    links.push({ text: `so cpu${F} sent no IPI to cpu${V}${bc ? ' (it flushed by INVLPGB)' : ''} and returned at step ${f.step(ret)}`, row: ret });
    story.noIpi = { from: F, to: V, row: decided?.row ?? ret };
  } else {
    const send = sends[0]!;
    const take = f.rows((d, ev, r) => d.k === 'ipi-take' && ev.cpu === V && r > send && d.calls.some((c) => c.sender === F))[0];
    const fn = (() => {
      const d = f.data(send);
      return d?.k === 'ipi-send' ? callName(d) : 'the call';
    })();
    if (take === undefined) {
      links.push({ text: `cpu${F} sent ${fn} to cpu${V} at step ${f.step(send)}, but cpu${V} never took it`, row: send });
    } else {
      const end = f.rows((d, ev, r) => d.k === 'iret' && ev.cpu === V && r > take)[0] ?? use;
      const inval = f.rows((d, ev, r) => ev.cpu === V && r > take && r <= end && invalidates(f, d, r, V, va === undefined ? {} : { va }));
      const hit = inval.filter((r) => invalidates(f, f.data(r)!, r, V, target));
      if (inval.length > 0 && hit.length > 0) {
        links.push({ text: `cpu${V} ran ${fn} at step ${f.step(take)} and invalidated with ${opText(f, hit[0]!)} at step ${f.step(hit[0]!)}`, row: hit[0]! });
      } else if (inval.length > 0) {
        const r = inval[0]!;
        links.push({
          text: `cpu${F} sent ${fn} to cpu${V} at step ${f.step(send)}; cpu${V} ran it at step ${f.step(take)}, but its ${opText(f, r)} at step ${f.step(r)} acted on pcid ${actedOn(f, V, r) ?? '?'}, not on the entry's pcid ${target.pcid ?? '?'}`,
          row: r,
        });
      } else {
        // The reads that decided: those that saw a write made after the IPI was sent come first, then the mm's fields.
        const all = f.reads.filter((r) => r.cpu === V && r.row > take && r.row <= end && decides(r, V));
        const fresh = (r: Read): number => ((f.source(r)?.row ?? -1) > send ? 0 : r.at.is.kind === 'mm' ? 1 : 2);
        const seen = [...all].sort((a, b) => fresh(a) - fresh(b) || a.row - b.row).slice(0, 2).sort((a, b) => a.row - b.row);
        const because = seen.map((r) => {
          const src = f.source(r);
          const from = src && src.row > send ? ` (set at step ${f.step(src.row)} by ${who(f, src.row)})` : '';
          return `${r.at.name} = ${r.val.shown}${from}`;
        });
        links.push({
          text:
            `cpu${F} sent ${fn} to cpu${V} at step ${f.step(send)}; cpu${V} took it at step ${f.step(take)} but invalidated nothing` +
            `${va === undefined ? '' : ` for ${hexva(va)}`}${because.length ? `: it read ${because.join(' and ')} and returned` : ''}`,
          row: take,
        });
        const other = f.rows((d, ev, r) => ev.cpu === V && r > from && r < use && invalidates(f, d, r, V, {}) && !invalidates(f, d, r, V, target));
        if (va !== undefined && other.length > 0) {
          links.push({ text: `cpu${V}'s only invalidation was ${opText(f, other[0]!)} at step ${f.step(other[0]!)}, not of ${hexva(va)}`, row: other[0]! });
        }
      }
    }
  }
  // V's own reads that missed F's writes (it did not see the change coming). Not when V had
  // left the mask itself: what it read before does not matter then.
  const own = switchAway ? [] : f.reads.filter((r) => r.cpu === V && r.row < use && picksUp(r.at, F)).flatMap((r) => f.missed(r, use, F));
  const mine = own.find((m) => m.write.row !== change || m.read.at.is.kind !== 'table');
  if (mine) {
    let text = missText(f, mine);
    const cr3 = f.rows((d, ev, r) => d.k === 'cr3' && ev.cpu === V && r > mine.read.row && r < use)[0];
    const d = cr3 === undefined ? undefined : f.data(cr3);
    if (cr3 !== undefined && d?.k === 'cr3') text += `, so cpu${V} loaded CR3${d.noflush ? ' NOFLUSH, keeping its TLB,' : ''} at step ${f.step(cr3)}`;
    links.push({ text, row: mine.read.row });
    races.push(race(mine));
  }
  return story;
}

/** `pcid 4, va 0x1000 (+1 page), globals too` for an INVLPGB's filters. */
function invlpgbText(inv: InvlpgbSpec): string {
  const parts: string[] = [];
  parts.push(inv.pcid === null ? 'every pcid' : `pcid ${inv.pcid}`);
  parts.push(inv.va === null ? 'every address' : `${hexva(inv.va)}${inv.nr > 1 ? ` (+${inv.nr - 1} pages)` : ''}`);
  if (inv.global) parts.push('globals too');
  return parts.join(', ');
}

/** Whether an INVLPGB's filters match the target entry (AMD APM Vol. 3, INVLPGB). */
function bcastCovers(inv: InvlpgbSpec, t: Target): boolean {
  if (inv.asid !== null && inv.asid !== 0) return false;
  if (t.va !== undefined && inv.va !== null) {
    const v0 = inv.va >>> 12;
    const v = t.va >>> 12;
    if (v < v0 || v >= v0 + inv.nr) return false;
  }
  // A global entry (no target pcid) is matched only with the include-global bit.
  if (t.pcid === undefined) return inv.global;
  return inv.pcid === null || inv.pcid === t.pcid;
}

/**
 * AMD broadcast invalidation (INVLPGB, Linux 6.15+): when `F` flushed without an IPI to `V`,
 * what its INVLPGBs did for `V`'s entry before the use at `use`. INVLPGB only queues the
 * invalidation on every CPU, each applies it later (the broadcast actor), and only the
 * issuer's TLBSYNC waits for that (AMD APM Vol. 3, INVLPGB and TLBSYNC).
 */
function broadcast(f: Facts, F: number, V: number, from: number, ret: number, use: number, target: Target): Link | undefined {
  const issued = f.rows((d, ev, r) => d.k === 'invlpgb' && ev.cpu === F && r > from && r < ret);
  const first = issued[0];
  if (first === undefined) return undefined;
  const d = f.data(first);
  if (d?.k !== 'invlpgb') return undefined;
  const what = `${who(f, first)} issued INVLPGB (${invlpgbText(d.inv)}) at step ${f.step(first)}`;
  const sync = f.rows((e, ev, r) => e.k === 'tlbsync' && ev.cpu === F && r > first && r <= ret)[0];
  const arrivals = f.rows((e, ev, r) => e.k === 'bcast' && ev.cpu === V && e.from === F && r > first && r < use);
  const covering = arrivals.find((r) => {
    const a = f.data(r);
    return a?.k === 'bcast' && bcastCovers(a.inv, target);
  });
  if (sync === undefined) {
    const late = covering === undefined ? `it had not reached cpu${V} when cpu${V} used the entry` : `it reached cpu${V} only at step ${f.step(covering)}`;
    return { text: `${what} but returned without TLBSYNC, which waits until every CPU has applied it: ${late}`, row: first };
  }
  if (covering === undefined && arrivals.length > 0) {
    const a = arrivals[0]!;
    return { text: `${what}; it reached cpu${V} at step ${f.step(a)} and TLBSYNC at step ${f.step(sync)} waited for it, but it did not match the entry's pcid ${target.pcid ?? '?'}`, row: a };
  }
  return { text: `${what} and waited for it with TLBSYNC at step ${f.step(sync)}`, row: sync };
}

/** The PCID an invalidation at `row` acted on: the one a CR3 load or INVPCID names, else the current one. */
function actedOn(f: Facts, cpu: number, row: number): number | undefined {
  const d = f.data(row);
  return d?.k === 'cr3' || d?.k === 'invpcid' ? d.pcid : pcidAt(f, cpu, row);
}

/** The PCID `cpu` runs in at `row` (from its last CR3 load), if the trace shows one. */
export function pcidAt(f: Facts, cpu: number, row: number): number | undefined {
  const r = f.rows((d, ev, i) => d.k === 'cr3' && ev.cpu === cpu && i < row).at(-1);
  const d = r === undefined ? undefined : f.data(r);
  return d?.k === 'cr3' ? d.pcid : undefined;
}

/** `invlpg va 0x1000`, `invpcid type 1 pcid 128`, `mov cr3 (pcid 1)`. */
export function opText(f: Facts, row: number): string {
  const d = f.data(row);
  switch (d?.k) {
    case 'invlpg':
      return `invlpg ${hexva(d.va)}`;
    case 'invpcid':
      return `invpcid type ${d.type} pcid ${d.pcid}${d.type === 0 ? ` ${hexva(d.va)}` : ''}`;
    case 'cr3':
      return `mov cr3 (pcid ${d.pcid}${d.noflush ? ', NOFLUSH' : ''})`;
    case 'pge':
      return 'CR4.PGE toggle';
    default:
      return d?.k ?? '?';
  }
}

/**
 * Whether an event of `cpu` at `row` invalidates the target (SDM 4.10.4.1: INVLPG acts on the
 * current PCID and global entries; INVPCID on the PCID it names, types 2 and 3 on all; a CR3
 * load without NOFLUSH on the new PCID; a PGE toggle on everything).
 */
function invalidates(f: Facts, d: NonNullable<ReturnType<Facts['data']>>, row: number, cpu: number, t: Target): boolean {
  const samePcid = (p: number | undefined): boolean => t.pcid === undefined || p === undefined || p === t.pcid;
  switch (d.k) {
    case 'invlpg':
      return (t.va === undefined || d.va === t.va) && samePcid(pcidAt(f, cpu, row));
    case 'invpcid':
      return d.type >= 2 || (samePcid(d.pcid) && (d.type === 1 || t.va === undefined || d.va === t.va));
    case 'cr3':
      return !d.noflush && samePcid(d.pcid);
    case 'pge':
      return true;
    default:
      return false;
  }
}
