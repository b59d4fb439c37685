/** Shared helpers for the suites: run a check the way the CLI does, capture CLI output. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.ts';
import { type CheckResult, search } from '../src/explore/check.ts';
import { prepare } from '../src/explore/engine.ts';
import { resolveVariant } from '../src/kernel/load.ts';
import type { Variant } from '../src/kernel/variant.ts';
import { DEFAULT_BOUNDS, type Bounds, type Features } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';

export function checkVariant(
  variant: Variant,
  scenario: string,
  cpus: number,
  opts: { features?: Partial<Features>; bounds?: Partial<Bounds>; strategy?: 'dfs' | 'random' | 'dpor'; seed?: number; stateless?: boolean; maxExecutions?: number } = {},
): CheckResult {
  const s = findScenario(scenario);
  if (!s) throw new Error(`no scenario ${scenario}`);
  const model = prepare({
    variant,
    scenario: s,
    params: { cpus },
    features: { ...variant.features, ...opts.features },
    bounds: { ...DEFAULT_BOUNDS, ...opts.bounds },
  });
  return search(model, {
    strategy: opts.strategy ?? 'dfs',
    seed: opts.seed ?? 1,
    ...(opts.stateless ? { stateless: true } : {}),
    ...(opts.maxExecutions === undefined ? {} : { maxExecutions: opts.maxExecutions }),
  });
}

export async function fixture(name: string): Promise<Variant> {
  return (await resolveVariant(join(import.meta.dirname, 'fixtures', `${name}.c`))).variant;
}

const made: string[] = [];

/**
 * A fresh temp folder, under the run's root (properties/setup/temp-root.ts) when there is one.
 * Every folder made here is removed after its test file (properties/setup/clean-temp.ts); the
 * run fails if one is left behind. The only place the suites make temp folders.
 */
export function tempDir(): string {
  const dir = mkdtempSync(join(process.env['TLBCHECK_TEST_TMP'] || tmpdir(), 'tlbcheck-test-'));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
