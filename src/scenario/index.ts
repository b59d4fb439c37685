/** The built-in scenarios. */
import { lazyFlush } from './lazy-flush.ts';
import { lazyFreePgtables } from './lazy-free-pgtables.ts';
import { switchVsFlush, switchVsFlushLocal } from './switch-vs-flush.ts';
import { pasidUpdate } from './pasid-update.ts';
import { kernelRangeFlush } from './kernel-range-flush.ts';
import { ptiReturnToUser } from './pti-return-to-user.ts';
import type { Scenario } from './world.ts';

export const SCENARIOS: readonly Scenario[] = [switchVsFlush, switchVsFlushLocal, lazyFlush, lazyFreePgtables, ptiReturnToUser, kernelRangeFlush, pasidUpdate];

export function findScenario(id: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.id === id);
}

export type { Scenario, ScenarioParams, World } from './world.ts';
export { scenarioFits } from './world.ts';
