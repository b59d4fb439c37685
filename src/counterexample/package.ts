/**
 * Package a minimized execution as a counterexample file, and say how much it shrank.
 */
import { buildCounterexample, sealCounterexample } from './counterexample.ts';
import type { Minimized, Size } from './minimize.ts';
import type { CounterexampleFile } from './schema.ts';

export function minimizedCounterexample(m: Minimized, strategy: string, seed: number, variantPath?: string): CounterexampleFile {
  const ce = buildCounterexample(m.subject.model, { violation: m.violation, tape: m.tape, widths: m.widths, strategy, seed }, variantPath);
  return m.subject.generated ? sealCounterexample({ ...ce, generated: m.subject.generated }) : ce;
}

/** `steps 13 -> 11, preemptions 6 -> 0, walks 1 -> 0, cpus 3 -> 2`. */
export function sizeText(before: Size, after: Size): string {
  const parts = [
    `steps ${before.steps} -> ${after.steps}`,
    `preemptions ${before.preemptions} -> ${after.preemptions}`,
    `walks ${before.walks} -> ${after.walks}`,
    `cpus ${before.cpus} -> ${after.cpus}`,
  ];
  if (before.ops > 0) parts.push(`operations ${before.ops} -> ${after.ops}`);
  return parts.join(', ');
}
