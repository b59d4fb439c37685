/**
 * Why a user thread ran with an old per-mm value (`per-mm-state-coherent`, seed 002): the
 * updater's store to the mm field, why the other CPU got no IPI (shootdown.ts), which of its
 * reads of the field missed the store, the MSR write that installed the old value, and the
 * user thread that ran with it after the update had returned.
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';
import { Facts } from './facts.ts';
import { shootdown } from './shootdown.ts';
import { useRow } from './stale-use.ts';
import { type Explanation, type Link, type Race, paragraph } from './types.ts';

export function explainPerMmState(trace: readonly TraceEvent[], v: Violation): Explanation {
  const f = new Facts(trace);
  const use = useRow(f, v);
  const V = v.cpu ?? f.ev(use).cpu;
  const F = v.by;
  const links: Link[] = [];
  const races: Race[] = [];
  let noIpi: Explanation['noIpi'];
  const update =
    F === undefined ? undefined : f.writes.filter((w) => w.cpu === F && w.at.is.kind === 'mm' && w.at.is.field === 'pasid' && (v.mm === undefined || w.at.is.mm === v.mm) && w.row < use).at(-1);
  if (update) {
    const vis = update.buffered ? (Number.isFinite(update.visible) ? `, visible from step ${f.step(update.visible)}` : ', never visible before the end') : '';
    links.push({ text: `cpu${update.cpu}'s ${f.ev(update.row).fn} stored ${update.at.name} := ${update.val.shown} at step ${f.step(update.row)}${vis}`, row: update.row });
  }
  const ret = F === undefined ? undefined : f.rows((_d, ev) => ev.cpu === F && ev.step === v.returnedAt).at(-1);
  if (F !== undefined && ret !== undefined) {
    const s = shootdown(f, F, V, update?.row, ret, use);
    links.push(...s.links);
    races.push(...s.races);
    noIpi = s.noIpi;
  }
  const msr = f.rows((d, ev, r) => d.k === 'wrmsr-pasid' && ev.cpu === V && r < use).at(-1);
  const m = msr === undefined ? undefined : f.data(msr);
  if (msr !== undefined && m?.k === 'wrmsr-pasid') links.push({ text: `cpu${V}'s ${f.ev(msr).fn} wrote IA32_PASID := ${m.val} at step ${f.step(msr)}`, row: msr });
  const u = f.data(use);
  const mm = u?.k === 'access' ? u.mmName : 'the mm';
  const after = v.returnedAt === undefined ? '' : `, after cpu${F}'s update${update ? ` to ${update.val.shown}` : ''} had returned at step ${v.returnedAt}`;
  links.push({ text: `cpu${V} ran ${mm}'s user thread with PASID ${m?.k === 'wrmsr-pasid' ? m.val : 'unchanged'} at step ${f.step(use)}${after}`, row: use });
  return { invariant: v.invariant, links, text: paragraph(links), races, ...(noIpi ? { noIpi } : {}) };
}
