/** Phrases the explainers share: who did what, at which step. Data in, words out. */
import type { Facts, Miss, Read, Write } from './facts.ts';

export const hexva = (va: number): string => `va 0x${va.toString(16)}`;

/** `cpu0's flush_tlb_mm_range` for a program step; `cpu1's walker` for a walk. */
export function who(f: Facts, row: number): string {
  const e = f.ev(row);
  switch (e.actor) {
    case 'walk':
      return `cpu${e.cpu}'s walker`;
    case 'drain':
      return `cpu${e.cpu}'s store buffer`;
    case 'ipi':
      return `cpu${e.cpu}'s IPI delivery`;
    case 'bcast':
      return `cpu${e.cpu}'s INVLPGB arrival`;
    default:
      return `cpu${e.cpu}'s ${e.fn || 'program'}`;
  }
}

export const readText = (f: Facts, r: Read): string => `${who(f, r.row)} read ${r.at.name} = ${r.val.shown} at step ${f.step(r.row)}`;

export const writeText = (f: Facts, w: Write): string => `cpu${w.cpu}'s ${w.what} (step ${f.step(w.row)})`;

/** Why the read missed the write, in words. */
export function missText(f: Facts, m: Miss): string {
  if (m.kind === 'buffered') {
    const vis = Number.isFinite(m.write.visible) ? `until step ${f.step(m.write.visible)}` : 'to the end';
    return `${readText(f, m.read)} while ${writeText(f, m.write)} was still in cpu${m.write.cpu}'s store buffer (${vis}; no barrier drained it before the read)`;
  }
  return `${readText(f, m.read)}, before ${writeText(f, m.write)} came`;
}

export const missLabel = (m: Miss): string => (m.kind === 'buffered' ? 'missed: still in the store buffer' : 'missed: came later');

/** `changed pte(mmA, va 0x1000) to pfn 5` for a store; `did lock xadd mmA.tlb_gen` for a LOCK'd RMW (its new value is not recorded). */
export const changeText = (w: Write): string => (w.what.startsWith('store ') ? `changed ${w.at.name} to ${w.val.shown}` : `did ${w.what}`);
