/**
 * Why a walk read a freed table (`no-walk-through-freed-table`, seed 003): which table page
 * the updater unlinked and freed, why the walking CPU was not flushed before the free
 * (shootdown.ts), and how its walker still reached the page: through a paging-structure-cache
 * entry (cached at boot or by an earlier walk) or through an upper entry whose clearing was
 * still in the updater's store buffer.
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';
import { Facts } from './facts.ts';
import { shootdown } from './shootdown.ts';
import { type Explanation, type Link, type Race, paragraph } from './types.ts';
import { hexva } from './words.ts';

/**
 * A software walker (GUP-fast, IRQs off) read the freed table: it took the upper entry before
 * the unlink and went on to the table; the free did not wait for its IRQs-off section (no
 * flush IPI it could hold up, no RCU grace period).
 */
function softwareWalk(f: Facts, v: Violation, links: Link[], walk: number, free: number | undefined, reuse: number | undefined, F: number | undefined): Explanation {
  const V = v.cpu ?? f.ev(walk).cpu;
  const off = f.rows((d, ev, r) => d.k === 'irq' && !d.on && ev.cpu === V && r <= walk).at(-1);
  if (off !== undefined) links.push({ text: `cpu${V}'s GUP-fast walk turned IRQs off at step ${f.step(off)} and read the upper entry while it still pointed to pfn ${v.pfn ?? '?'}`, row: off });
  if (F !== undefined && free !== undefined) {
    links.push({
      text:
        `cpu${F} freed pfn ${v.pfn ?? '?'} at step ${f.step(free)}${reuse === undefined ? '' : ` (reused at step ${f.step(reuse)})`} while cpu${V} was still in that IRQs-off section: ` +
        'no flush IPI it would have held up, and no RCU grace period, made the free wait for it',
      row: free,
    });
  }
  links.push({ text: `cpu${V}'s GUP-fast walk then read pfn ${v.pfn ?? '?'} at step ${f.step(walk)}`, row: walk });
  return { invariant: v.invariant, links, text: paragraph(links), races: [] };
}

export function explainFreedTable(trace: readonly TraceEvent[], v: Violation): Explanation {
  const f = new Facts(trace);
  const walk =
    f.rows((d, ev) => ev.step === v.step && (v.cpu === undefined || ev.cpu === v.cpu) && (d.k === 'walk' || d.k === 'access' || (v.software === true && d.k === 'load'))).at(-1) ??
    trace.length - 1;
  const V = v.cpu ?? f.ev(walk).cpu;
  const pfn = v.pfn;
  const links: Link[] = [];
  const races: Race[] = [];
  let noIpi: Explanation['noIpi'];
  const free = f.rows((d, _ev, r) => d.k === 'free-page' && d.pfn === pfn && r < walk).at(-1);
  const reuse = f.rows((d, _ev, r) => d.k === 'reuse-page' && d.pfn === pfn && r < walk).at(-1);
  const F = free === undefined ? undefined : f.ev(free).cpu;
  const unlink = F === undefined ? undefined : f.writes.filter((w) => w.cpu === F && w.at.is.kind === 'table' && w.row < free!).at(-1);
  if (unlink) {
    const vis = unlink.buffered ? (Number.isFinite(unlink.visible) ? `, visible from step ${f.step(unlink.visible)}` : ', never visible before the end') : '';
    // A store records its new value; a LOCK'd RMW (pmdp_huge_get_and_clear's XCHG) its old one.
    const how = unlink.what.startsWith('store ') ? `(now ${unlink.val.shown})` : `(by ${unlink.what.split(' ').slice(0, 2).join(' ')})`;
    links.push({ text: `cpu${unlink.cpu}'s ${f.ev(unlink.row).fn} cleared ${unlink.at.name} ${how} at step ${f.step(unlink.row)}${vis}`, row: unlink.row });
  }
  if (v.software) return softwareWalk(f, v, links, walk, free, reuse, F);
  if (F !== undefined && free !== undefined) {
    const ret = f.rows((d, ev, r) => d.k === 'flush-return' && ev.cpu === F && r > (unlink?.row ?? 0) && r < free).at(-1);
    if (ret === undefined) {
      links.push({ text: `cpu${F} freed it without a flush returning first`, row: free });
    } else {
      const s = shootdown(f, F, V, unlink?.row, ret, walk);
      links.push(...s.links);
      races.push(...s.races);
      noIpi = s.noIpi;
    }
    links.push({ text: `cpu${F} freed pfn ${pfn ?? '?'} at step ${f.step(free)}${reuse === undefined ? '' : ` and it was reused as data at step ${f.step(reuse)}`}`, row: free });
  }
  const d = f.data(walk);
  const via = d?.k === 'walk' && d.reads.some((r) => r.pfn === pfn && r.viaPsc);
  const by = f.ev(walk).actor === 'walk' ? `cpu${V}'s walker (speculative)` : `cpu${V}'s access`;
  const va = v.va === undefined ? '' : ` for ${hexva(v.va)}`;
  if (via) {
    const cached = f.rows((x, ev, r) => x.k === 'walk' && x.pscLeaf === pfn && ev.cpu === V && r < walk).at(-1);
    links.push({
      text: `${by} reached pfn ${pfn ?? '?'}${va} at step ${f.step(walk)} through its cached upper entry (${cached === undefined ? 'cached at boot' : `cached at step ${f.step(cached)}`}), which nothing had flushed`,
      row: walk,
    });
  } else if (unlink && unlink.row < walk && unlink.visible > walk) {
    links.push({ text: `${by} read ${unlink.at.name} from memory at step ${f.step(walk)}, where it still pointed to pfn ${pfn ?? '?'}: cpu${unlink.cpu}'s store was still in its store buffer`, row: walk });
    races.push({ read: walk, write: unlink.row, kind: 'buffered', label: 'missed: still in the store buffer' });
  } else {
    links.push({ text: `${by} read pfn ${pfn ?? '?'}${va} at step ${f.step(walk)}`, row: walk });
  }
  return { invariant: v.invariant, links, text: paragraph(links), races, ...(noIpi ? { noIpi } : {}) };
}
