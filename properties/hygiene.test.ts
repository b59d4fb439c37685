/**
 * The test suite keeps the machine and the repository clean: temp folders are made only by
 * `tempDir()` (under the run's root) and removed after each test file, and a run that leaves a
 * `tlbcheck-test-*` folder behind, or adds a file to `counterexamples/` or `out/`, fails in the
 * global teardown (properties/setup/temp-root.ts). Shown to fail on a test file that leaks.
 * A user's `check` or `fuzz` without `--out` saves under `out/` of the working directory, never
 * into `counterexamples/` (the stored corpus).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.ts';
import { leftovers, snapshot } from './setup/temp-root.ts';

const HERE = import.meta.dirname;
const ROOT = join(HERE, '..');

describe('temp folders', () => {
  it('tempDir() makes its folders under the run root', () => {
    const root = process.env['TLBCHECK_TEST_TMP'];
    expect(root).toBeDefined();
    const d = tempDir();
    expect(d.startsWith(join(root!, 'tlbcheck-test-'))).toBe(true);
    expect(existsSync(d)).toBe(true);
  });

  it('no suite makes temp folders except through tempDir()', () => {
    const allowed = new Set(['helpers.ts', join('setup', 'temp-root.ts'), join('fixtures', 'leak', 'leak.fixture.ts'), 'hygiene.test.ts']);
    const files = (readdirSync(HERE, { recursive: true }) as string[]).map(String).filter((f) => f.endsWith('.ts') && !allowed.has(f));
    const offenders = files.filter((f) => /mkdtemp|tmpdir\(/.test(readFileSync(join(HERE, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('leftovers() names a leftover temp folder and a file added to a watched repository folder', () => {
    const repo = tempDir();
    mkdirSync(join(repo, 'counterexamples'));
    writeFileSync(join(repo, 'counterexamples', 'stored.json'), '{}');
    const before = snapshot(repo);
    const root = tempDir();
    expect(leftovers(root, before, repo)).toEqual([]);
    mkdirSync(join(root, 'tlbcheck-test-abc'));
    mkdirSync(join(repo, 'out'));
    writeFileSync(join(repo, 'out', 'x.json'), '{}');
    expect(leftovers(root, before, repo)).toEqual([join(root, 'tlbcheck-test-abc'), join('out', 'x.json')]);
  });

  it('a run whose test leaks a temp folder fails, naming it', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', join(HERE, 'fixtures', 'leak', 'vitest.config.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, TLBCHECK_TEST_TMP: '' },
    });
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/left 1 file\(s\) or folder\(s\) behind .*tlbcheck-test-/);
  });
});

describe('a user check keeps the repository clean', () => {
  for (const argv of [
    ['check', '--variant', 'linux-4.13-flush-no-mb', '--scenario', 'switch-vs-flush'],
    ['fuzz', '--variant', 'linux-4.13-flush-no-mb', '--seed', '1'],
  ]) {
    it(`${argv.join(' ')} (no --out) saves its counterexample under out/, not counterexamples/`, () => {
      const cwd = tempDir();
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'tlbcheck.js'), ...argv], { cwd, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/^ {2}counterexample: out\/linux-4\.13-flush-no-mb--.*\.json$/m);
      expect(readdirSync(join(cwd, 'out')).length).toBe(1);
      expect(existsSync(join(cwd, 'counterexamples'))).toBe(false);
    });
  }
});
