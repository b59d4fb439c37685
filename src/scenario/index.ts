/** The built-in scenarios: the files under scenarios/ (builtin-files.ts), and user files by path. */
import { FILE_SCENARIOS } from './builtin-files.ts';
import type { Scenario } from './world.ts';

export const SCENARIOS: readonly Scenario[] = FILE_SCENARIOS;

export function findScenario(id: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.id === id);
}

export type { ParamRange, Scenario, ScenarioParams, World } from './world.ts';
export { scenarioFits } from './world.ts';
