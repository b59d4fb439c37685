/**
 * Why a variant's declared invariant (`invariant=name:function`, a C predicate) was false: the
 * state its predicate read, each value with the step that last wrote it (or "its value at
 * boot"), and what it read of the machine and the ghost.
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';
import { Facts } from './facts.ts';
import { type Explanation, type Link, paragraph } from './types.ts';
import { who } from './words.ts';

export function explainDeclared(trace: readonly TraceEvent[], v: Violation): Explanation {
  const d = v.declared;
  const f = new Facts(trace);
  let last = -1;
  trace.forEach((e, i) => {
    if (e.step <= v.step) last = i;
  });
  const links: Link[] = [];
  for (const r of d?.reads ?? []) {
    if (r.loc < 0) {
      links.push({ text: `${r.what ?? '?'} at step ${v.step}` });
      continue;
    }
    const w = f.writes.filter((x) => x.at.loc === r.loc && x.row <= last && x.visible <= last).at(-1);
    const name = w?.at.name ?? f.reads.find((x) => x.at.loc === r.loc)?.at.name;
    const shown = w && w.val.v === r.val ? w.val.shown : String(r.val);
    links.push(
      w
        ? { text: `${name ?? `word ${r.loc}`} = ${shown}, written by ${who(f, w.row)} at step ${f.step(w.row)} (${w.what})`, row: w.row }
        : { text: `${name ?? `word ${r.loc}`} = ${shown}, its value at boot` },
    );
  }
  links.push({ text: `so ${d?.fn ?? '?'}() of ${v.invariant} was false on cpu${v.cpu ?? '?'} at step ${v.step}`, ...(last >= 0 ? { row: last } : {}) });
  return { invariant: v.invariant, links, text: paragraph(links), races: [] };
}
