/** The built-in scenarios. */
import { lazyFlush } from './lazy-flush.ts';
import { lazyFreePgtables } from './lazy-free-pgtables.ts';
import { switchVsFlush, switchVsFlushLocal } from './switch-vs-flush.ts';
import { pasidUpdate } from './pasid-update.ts';
import type { Scenario } from './world.ts';

export const SCENARIOS: readonly Scenario[] = [switchVsFlush, switchVsFlushLocal, lazyFlush, lazyFreePgtables, pasidUpdate];

export function findScenario(id: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.id === id);
}

export type { Scenario, ScenarioParams, World } from './world.ts';
