/**
 * Why a stale TLB entry was used (`no-stale-tlb-use`, and `no-stale-kernel-translation`,
 * whose chain has the same shape): what the flusher changed, why the CPU that used the entry
 * was not flushed (shootdown.ts), how the entry came to hold the old translation (cached at
 * boot, a walk before the change, or a walk that read memory while the change was still in
 * the flusher's store buffer), and where it was used.
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';
import { Facts } from './facts.ts';
import { opText, shootdown } from './shootdown.ts';
import { type Explanation, type Link, type Race, paragraph } from './types.ts';
import { changeText, hexva } from './words.ts';

export function useRow(f: Facts, v: Violation): number {
  const rows = f.rows((d, ev) => ev.step === v.step && (v.cpu === undefined || ev.cpu === v.cpu) && d.k === 'access');
  return rows.at(-1) ?? f.rows((_d, ev) => ev.step === v.step && ev.actor !== 'ghost').at(-1) ?? f.trace.length - 1;
}

export function explainStaleUse(trace: readonly TraceEvent[], v: Violation): Explanation {
  const f = new Facts(trace);
  const use = useRow(f, v);
  const V = v.cpu ?? f.ev(use).cpu;
  const d = f.data(use);
  const entry = d?.k === 'access' ? d.entry : undefined;
  const va = v.va ?? (d?.k === 'access' ? d.va : undefined);
  const mmName = d?.k === 'access' ? d.mmName : 'its mm';
  const links: Link[] = [];
  const races: Race[] = [];
  const filledAt = entry?.filledAt ?? v.filledAt;
  const fill: number | 'boot' | undefined =
    filledAt === 0 ? 'boot' : filledAt === undefined ? undefined : f.rows((x, ev) => ev.cpu === V && ev.step === filledAt && (x.k === 'walk' || x.k === 'access'))[0];
  const where = va === undefined ? 'the address' : hexva(va);
  let noIpi: Explanation['noIpi'];
  const F = v.by;
  const ret = F === undefined ? undefined : f.rows((x, ev) => x.k === 'flush-return' && ev.cpu === F && ev.step === v.returnedAt)[0];
  let change: number | undefined;
  if (F !== undefined && ret !== undefined && entry) {
    const changes = f.writes.filter((w) => (w.at.loc === entry.leafLoc || w.at.loc === entry.upperLoc) && w.row < ret && w.cpu !== V);
    const w = changes.filter((x) => x.cpu === F).at(-1) ?? changes.at(-1);
    change = w?.row;
    if (w) {
      const vis = w.buffered ? (Number.isFinite(w.visible) ? `, visible from step ${f.step(w.visible)}` : ', never visible before the end') : '';
      links.push({ text: `cpu${w.cpu}'s ${f.ev(w.row).fn} ${changeText(w)} at step ${f.step(w.row)}${vis}`, row: w.row });
    }
    const s = shootdown(f, F, V, change, ret, use, { ...(va === undefined ? {} : { va }), ...(entry.global ? {} : { pcid: entry.pcid }) });
    links.push(...s.links);
    races.push(...s.races);
    noIpi = s.noIpi;
    // A switch that kept the TLB although the mm had moved on (NOFLUSH with a stale generation, a recycled ASID).
    const cr3 = f.rows((x, ev, r) => x.k === 'cr3' && x.noflush && ev.cpu === V && r > (change ?? 0) && r < use).at(-1);
    if (cr3 !== undefined && !s.races.some((r) => f.ev(r.read).cpu === V)) {
      const x = f.data(cr3);
      // What it decided on: its last read of the mm's state and its last read of its own.
      const before = f.reads.filter((r) => r.cpu === V && r.row < cr3 && r.row > (change ?? 0));
      const seen = [before.filter((r) => r.at.is.kind === 'mm').at(-1), before.filter((r) => r.at.is.kind === 'pcpu' && r.at.is.cpu === V).at(-1)]
        .filter((r): r is NonNullable<typeof r> => r !== undefined)
        .sort((a, b) => a.row - b.row);
      const read = seen.length ? ` after reading ${seen.map((r) => `${r.at.name} = ${r.val.shown}`).join(' and ')}` : '';
      links.push({ text: `cpu${V}'s ${f.ev(cr3).fn} loaded CR3 NOFLUSH (pcid ${x?.k === 'cr3' ? x.pcid : '?'}) at step ${f.step(cr3)}${read}, keeping the entry`, row: cr3 });
    }
  } else if (F === undefined) {
    // An entry from another mm's tables: the switch is the change, and nothing flushed its PCID.
    const cr3 = f.rows((x, ev, r) => x.k === 'cr3' && ev.cpu === V && r < use).at(-1);
    const x = cr3 === undefined ? undefined : f.data(cr3);
    if (cr3 !== undefined && x?.k === 'cr3') {
      links.push({ text: `cpu${V} switched to ${mmName} at step ${f.step(cr3)} (mov cr3${x.pcid ? ` pcid ${x.pcid}` : ''}${x.noflush ? ' NOFLUSH' : ''})`, row: cr3 });
    }
    const since = typeof fill === 'number' ? fill : 0;
    const inval = f.rows((y, ev, r) => ev.cpu === V && r > since && r < use && (y.k === 'invpcid' || y.k === 'invlpg' || (y.k === 'cr3' && !y.noflush)));
    links.push({ text: `nothing flushed pcid ${entry?.pcid ?? '?'} on cpu${V} after the entry was filled${inval.length ? ` (its ${inval.map((r) => `${opText(f, r)} at step ${f.step(r)}`).join(', ')} missed that PCID)` : ''}` });
  }
  if (fill === 'boot') {
    const foreign = F === undefined ? ` in pcid ${entry?.pcid ?? '?'}, from another mm's page tables,` : '';
    links.push({ text: `cpu${V}'s TLB entry for ${where} (pfn ${entry?.pfn ?? '?'})${foreign} had been cached at boot and survived` });
  } else if (fill !== undefined) {
    const w = change === undefined ? undefined : f.writes.find((x) => x.row === change);
    const walker = f.ev(fill).actor === 'walk' ? `cpu${V}'s walker` : `cpu${V}'s access`;
    let text = `${walker} filled the TLB entry for ${where} with pfn ${entry?.pfn ?? '?'} at step ${f.step(fill)}`;
    if (w && w.row < fill && w.visible > fill) {
      text = `${walker} read the old PTE (pfn ${entry?.pfn ?? '?'}) of ${where} at step ${f.step(fill)}: cpu${w.cpu}'s store was still in its store buffer`;
      races.push({ read: fill, write: w.row, kind: 'buffered', label: 'missed: still in the store buffer' });
    } else if (w && w.row > fill) {
      text += ', before the change';
    } else if (F === undefined) {
      text += ` from another mm's page tables`;
    }
    links.push({ text, row: fill });
  }
  const after = v.returnedAt === undefined ? '' : `, after cpu${F}'s flush had returned at step ${v.returnedAt}`;
  links.push({ text: `cpu${V} used pfn ${entry?.pfn ?? '?'} for ${where} in ${mmName} at step ${f.step(use)}${after}`, row: use });
  return {
    invariant: v.invariant,
    links,
    text: paragraph(links),
    races,
    ...(noIpi ? { noIpi } : {}),
    ...(fill !== undefined ? { stale: { cpu: V, fill, use } } : {}),
  };
}
