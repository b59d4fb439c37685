/**
 * The built-in scenarios: the files under `<package root>/scenarios/`, read through the same
 * loader as a user's file (from-file.ts). The order is the order of `tlbcheck list`.
 */
import { fileURLToPath } from 'node:url';
import { readScenarioFile } from './from-file.ts';
import type { Scenario } from './world.ts';

export const BUILTIN_SCENARIO_IDS: readonly string[] = [
  'switch-vs-flush',
  'switch-vs-flush-local',
  'lazy-flush',
  'lazy-free-pgtables',
  'asid-reuse',
  'concurrent-flushes',
  'spin-scaled',
  'pti-return-to-user',
  'kernel-range-flush',
  'pasid-update',
  'broadcast-flush',
  'broadcast-transition',
  'munmap-zap',
  'madvise-race',
  'mremap-vs-truncate',
  'reclaim-vs-mprotect',
  'munmap-free-table',
  'kernel-range-flush-global',
  'kernel-range-flush-all',
  'kernel-pgtable-free',
  'collapse-flush',
  'idle-leave-mm',
  'preempt-cr3-up',
  'nmi-uaccess-switch',
  'gup-fast-vs-free-table',
  'mm-reuse',
  'switch-away-free-pgtables',
];

/** Built-ins are no user files: they carry no `file` (a counterexample names them by id). */
function builtin(id: string): Scenario {
  const path = fileURLToPath(new URL(`../../scenarios/${id}.json`, import.meta.url));
  const { file: _file, expect: _expect, ...s } = readScenarioFile(path, `scenarios/${id}.json`);
  if (s.id !== id) throw new Error(`[tlbcheck bug] scenarios/${id}.json has id ${s.id}`);
  return s;
}

export const FILE_SCENARIOS: readonly Scenario[] = BUILTIN_SCENARIO_IDS.map(builtin);
