/**
 * Why a kernel assertion fired (`kernel-assertion`): the WARN_ON/BUG_ON, the values its
 * routine had read just before it, and who wrote them (or which write of another CPU those
 * reads missed).
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';
import { Facts } from './facts.ts';
import { type Explanation, type Link, type Race, paragraph } from './types.ts';
import { missLabel, missText, who } from './words.ts';

export function explainAssertion(trace: readonly TraceEvent[], v: Violation): Explanation {
  const f = new Facts(trace);
  const row = f.rows((d, ev) => d.k === 'assert' && ev.step === v.step && (v.cpu === undefined || ev.cpu === v.cpu)).at(-1) ?? trace.length - 1;
  const e = f.ev(row);
  const d = f.data(row);
  const links: Link[] = [];
  const races: Race[] = [];
  const reads = f.reads.filter((r) => r.cpu === e.cpu && r.row < row && (r.at.is.kind === 'mm' || r.at.is.kind === 'pcpu')).slice(-2);
  for (const r of reads) {
    const miss = f.missed(r, row)[0];
    if (miss) {
      links.push({ text: missText(f, miss), row: r.row });
      races.push({ read: r.row, write: miss.write.row, kind: miss.kind, label: missLabel(miss) });
      continue;
    }
    const src = f.source(r);
    const from = src ? `, written by ${who(f, src.row)} at step ${f.step(src.row)}` : ', its value at boot';
    links.push({ text: `${who(f, r.row)} read ${r.at.name} = ${r.val.shown} at step ${f.step(r.row)}${from}`, row: r.row });
  }
  links.push({ text: `so cpu${e.cpu}'s ${e.fn} hit its assertion "${d?.k === 'assert' ? d.what : '?'}" at step ${e.step}`, row });
  return { invariant: v.invariant, links, text: paragraph(links), races };
}
