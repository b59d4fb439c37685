/**
 * Why an instruction faulted (`no-cpu-fault`): which routine ran which instruction, and the
 * CPU feature it needs that the machine lacks (SDM Vol. 2: INVPCID raises #UD without
 * CPUID.(EAX=07H,ECX=0):EBX.INVPCID; a CR3 load with a PCID needs CR4.PCIDE).
 */
import type { TraceEvent } from '../../explore/sim.ts';
import type { Violation } from '../../invariants/types.ts';
import { Facts } from './facts.ts';
import { opText } from './shootdown.ts';
import { type Explanation, type Link, paragraph } from './types.ts';

const NEEDS: Partial<Record<string, string>> = { invpcid: 'INVPCID', cr3: 'PCID', pge: 'PGE' };

export function explainCpuFault(trace: readonly TraceEvent[], v: Violation): Explanation {
  const f = new Facts(trace);
  const row = f.rows((d, ev) => ev.step === v.step && (v.cpu === undefined || ev.cpu === v.cpu) && d.k in NEEDS).at(-1);
  const links: Link[] = [];
  if (row === undefined) {
    links.push({ text: `cpu${v.cpu ?? '?'} faulted at step ${v.step}` });
  } else {
    const e = f.ev(row);
    const d = f.data(row)!;
    links.push({ text: `cpu${e.cpu}'s ${e.fn} executed ${opText(f, row)} at step ${e.step}`, row });
    links.push({ text: `this run's machine has no ${NEEDS[d.k] ?? '?'}, so the instruction faults (#UD) instead of flushing`, row });
  }
  return { invariant: v.invariant, links, text: paragraph(links), races: [] };
}
