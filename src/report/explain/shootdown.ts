/**
 * The middle of every shootdown story, shared by the explainers of stale TLB use, stale
 * kernel translations, walks through freed tables and per-mm state: the updater `F` changed
 * something at row `change` and returned at row `ret`; did cpu `V` get the IPI, and if not,
 * which of `F`'s reads decided against it (and which write of `V` that read missed); if it
 * did, why its handler left the old state alone; and which of `V`'s own reads missed `F`'s
 * writes. Everything is read off the trace's structured data.
 */
import type { LocRef } from '../../explore/event-data.ts';
import type { Facts, Miss, Read } from './facts.ts';
import type { Link, Race } from './types.ts';
import { hexva, missLabel, missText, readText, who } from './words.ts';

export interface Story {
  readonly links: Link[];
  readonly races: Race[];
  noIpi?: { from: number; to: number; row: number };
}

/** Locations whose reads decide whether `F` must reach `V`: the mm's fields and `V`'s per-CPU state. */
const decides = (at: LocRef, victim: number): boolean => at.is.kind === 'mm' || (at.is.kind === 'pcpu' && at.is.cpu === victim);
/** Locations whose reads by `V` decide whether it picks up `F`'s change. */
const picksUp = (at: LocRef, updater: number): boolean => at.is.kind === 'mm' || at.is.kind === 'table' || (at.is.kind === 'pcpu' && at.is.cpu === updater);

function race(m: Miss): Race {
  return { read: m.read.row, write: m.write.row, kind: m.kind, label: missLabel(m) };
}

/** The last CR3 load of `cpu` before `row`. */
function cr3Before(f: Facts, cpu: number, row: number): number | undefined {
  return f.rows((d, ev, r) => d.k === 'cr3' && ev.cpu === cpu && r < row).at(-1);
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
    const reads = f.reads.filter((r) => r.cpu === F && r.row > from && r.row <= ret && decides(r.at, V));
    const misses = reads.flatMap((r) => f.missed(r, use, V));
    const first = misses[0];
    let decided: Read | undefined;
    if (first) {
      links.push({ text: updaterMissText(f, first, change), row: first.read.row });
      races.push(race(first));
      decided = first.read;
    } else {
      decided = reads.at(-1);
      if (decided) links.push({ text: readText(f, decided), row: decided.row });
    }
    links.push({ text: `so cpu${F} sent no IPI to cpu${V} and returned at step ${f.step(ret)}`, row: ret });
    story.noIpi = { from: F, to: V, row: decided?.row ?? ret };
  } else {
    const send = sends[0]!;
    const take = f.rows((d, ev, r) => d.k === 'ipi-take' && ev.cpu === V && r > send && d.calls.some((c) => c.sender === F))[0];
    const fn = (() => {
      const d = f.data(send);
      return d?.k === 'ipi-send' ? d.fn : 'the call';
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
          text: `cpu${F} sent ${fn} to cpu${V} at step ${f.step(send)}; cpu${V} ran it at step ${f.step(take)}, but its ${opText(f, r)} at step ${f.step(r)} acted on pcid ${pcidAt(f, V, r) ?? '?'}, not on the entry's pcid ${target.pcid ?? '?'}`,
          row: r,
        });
      } else {
        // The reads that decided: those that saw a write made after the IPI was sent come first, then the mm's fields.
        const all = f.reads.filter((r) => r.cpu === V && r.row > take && r.row <= end && decides(r.at, V));
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
  // V's own reads that missed F's writes (it did not see the change coming).
  const own = f.reads.filter((r) => r.cpu === V && r.row < use && picksUp(r.at, F)).flatMap((r) => f.missed(r, use, F));
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
