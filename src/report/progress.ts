/** The progress line of a long search (gate rows and check), for a terminal's status line. */
import type { TreeEstimate } from '../explore/estimate.ts';
import type { StatefulProgress } from '../explore/stateful.ts';

export function progressText(p: StatefulProgress, estimate?: TreeEstimate): string {
  const per = (n: number): string => (p.elapsedMs > 0 ? String(Math.round((n * 1000) / p.elapsedMs)) : '0');
  const est = estimate ? `, tree ~${estimate.executions.toExponential(1)} executions (Knuth, ${estimate.probes} probes, seed ${estimate.seed})` : '';
  return `${per(p.executions)} exec/s, ${per(p.states)} states/s, ${p.states} states, depth ${p.depth}, ${(p.elapsedMs / 1000).toFixed(1)} s${est}`;
}
