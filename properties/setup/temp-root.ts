/**
 * Global setup of the suites (vitest.config.ts `globalSetup`): the temp folders of one run live
 * under one root made here, so runs of other checkouts on the same machine never disturb the
 * check, and teardown fails the run when a test left a `tlbcheck-test-*` folder behind or
 * added a file to the repository's own `counterexamples/` or `out/` (but for the screenshots the
 * timeline test stores under out/timeline for review). Each test file removes its
 * folders in an afterAll (`properties/setup/clean-temp.ts`).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEMP_ROOT_ENV = 'TLBCHECK_TEST_TMP';
const ROOT = join(import.meta.dirname, '..', '..');
const WATCHED = ['counterexamples', 'out'];
/** What a test writes on purpose for a person to look at: the timeline screenshots (issue 18). */
const REVIEW = ['out/timeline'];

/** Every file under `dir`, relative to it ([] when it does not exist). */
function listing(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}

/** What a run left behind: temp folders under `root`, and files added to the watched repo folders. */
export function leftovers(root: string, before: ReadonlyMap<string, readonly string[]>, repo: string = ROOT): string[] {
  const temp = existsSync(root) ? readdirSync(root).filter((f) => f.startsWith('tlbcheck-test-')) : [];
  const added = [...before].flatMap(([d, had]) =>
    listing(join(repo, d))
      .filter((f) => !had.includes(f) && !REVIEW.some((r) => `${d}/${f}` === r || `${d}/${f}`.startsWith(`${r}/`)))
      .map((f) => `${d}/${f}`),
  );
  return [...temp.map((f) => join(root, f)), ...added];
}

export function snapshot(repo: string = ROOT): Map<string, string[]> {
  return new Map(WATCHED.map((d) => [d, listing(join(repo, d))]));
}

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'tlbcheck-run-'));
  process.env[TEMP_ROOT_ENV] = root;
  const before = snapshot();
  return () => {
    const left = leftovers(root, before);
    rmSync(root, { recursive: true, force: true });
    if (left.length > 0) {
      // vitest reports an error thrown at teardown but keeps the exit status: set it here.
      process.exitCode = 1;
      throw new Error(`the test run left ${left.length} file(s) or folder(s) behind (tests must remove their temp folders and never write into the repository): ${left.slice(0, 5).join(', ')}${left.length > 5 ? ', ...' : ''}`);
    }
  };
}
