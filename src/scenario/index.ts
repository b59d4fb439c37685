/** The built-in scenarios. */
import { asidReuse } from './asid-reuse.ts';
import { broadcastFlush, broadcastTransition } from './broadcast-flush.ts';
import { concurrentFlushes } from './concurrent-flushes.ts';
import { lazyFlush } from './lazy-flush.ts';
import { lazyFreePgtables } from './lazy-free-pgtables.ts';
import { spinScaled } from './spin-scaled.ts';
import { switchVsFlush, switchVsFlushLocal } from './switch-vs-flush.ts';
import { pasidUpdate } from './pasid-update.ts';
import { kernelRangeFlush } from './kernel-range-flush.ts';
import { ptiReturnToUser } from './pti-return-to-user.ts';
import { preemptCr3Up } from './preempt-cr3-up.ts';
import { nmiUaccessSwitch } from './nmi-uaccess-switch.ts';
import type { Scenario } from './world.ts';

export const SCENARIOS: readonly Scenario[] = [
  switchVsFlush,
  switchVsFlushLocal,
  lazyFlush,
  lazyFreePgtables,
  asidReuse,
  concurrentFlushes,
  spinScaled,
  ptiReturnToUser,
  kernelRangeFlush,
  pasidUpdate,
  broadcastFlush,
  broadcastTransition,
  preemptCr3Up,
  nmiUaccessSwitch,
];

export function findScenario(id: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.id === id);
}

export type { ParamRange, Scenario, ScenarioParams, World } from './world.ts';
export { scenarioFits } from './world.ts';
