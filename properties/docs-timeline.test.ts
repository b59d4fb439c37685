/**
 * The README's timeline example is generated, not typed: `npm run docs:timeline`
 * (docs/timeline.ts) rewrites the replay block and the picture from a stored counterexample.
 * Its `--check` mode runs here and must find both current; shown to fail on a README whose
 * block drifted and on a picture digest of another page.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const run = async (...args: string[]): Promise<{ code: number; out: string }> => {
  try {
    const r = await promisify(execFile)('node', ['bin/run-ts.js', 'docs/timeline.ts', '--check', ...args], { cwd: ROOT });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout + x.stderr };
  }
};

describe('the README timeline example and picture', () => {
  it('are what the tool makes now (npm run docs:timeline -- --check)', async () => {
    const r = await run();
    expect(r.out).toContain('up to date');
    expect(r.code).toBe(0);
  }, 60_000);

  it('a README whose replay example drifted is reported stale', async () => {
    const dir = tempDir();
    const readme = join(dir, 'README.md');
    writeFileSync(readme, readFileSync(join(ROOT, 'README.md'), 'utf8').replace('STALE ENTRY (filled at step 4)', 'STALE ENTRY (filled at step 5)'));
    const r = await run('--readme', readme);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/stale: .*README\.md \(its replay example differs/);
  }, 60_000);

  it('a picture of another page is reported stale', async () => {
    const dir = tempDir();
    const digest = join(dir, 'timeline.sha256');
    copyFileSync(join(ROOT, 'docs', 'timeline-cr3-before-cpumask.sha256'), digest);
    writeFileSync(digest, `sha256:${'0'.repeat(64)}\n`);
    const r = await run('--digest', digest);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/stale: .*timeline-cr3-before-cpumask\.png/);
  }, 60_000);
});
