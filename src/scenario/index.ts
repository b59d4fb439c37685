/** The built-in scenarios. */
import { asidReuse } from './asid-reuse.ts';
import { broadcastFlush, broadcastTransition } from './broadcast-flush.ts';
import { concurrentFlushes } from './concurrent-flushes.ts';
import { lazyFlush } from './lazy-flush.ts';
import { lazyFreePgtables } from './lazy-free-pgtables.ts';
import { spinScaled } from './spin-scaled.ts';
import { switchVsFlush, switchVsFlushLocal } from './switch-vs-flush.ts';
import { pasidUpdate } from './pasid-update.ts';
import { kernelRangeFlush, kernelRangeFlushAll, kernelRangeFlushGlobal } from './kernel-range-flush.ts';
import { ptiReturnToUser } from './pti-return-to-user.ts';
import { kernelPgtableFree } from './kernel-pgtable-free.ts';
import { collapseFlush } from './collapse-flush.ts';
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
  kernelRangeFlushGlobal,
  kernelRangeFlushAll,
  kernelPgtableFree,
  collapseFlush,
];

export function findScenario(id: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.id === id);
}

export type { ParamRange, Scenario, ScenarioParams, World } from './world.ts';
export { scenarioFits } from './world.ts';
