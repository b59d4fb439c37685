/**
 * A verdict is never lost to an output error: it is printed first; a file that cannot be saved
 * is then one line with the path and the reason, exit 2, with no retry loop on unwritable
 * paths. A directory is made without Node's recursive mkdir, which loops forever on /proc.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { ensureDir, writeNewFile } from '../../src/files.ts';
import { ROOT, removeDir, scratch, tlbcheck } from './files.ts';

const dir = scratch();
afterAll(() => removeDir(dir));
const BUGGY = ['check', '--variant', 'linux-4.13-flush-no-mb', '--scenario', 'switch-vs-flush'];

describe('output errors', () => {
  it('--out under a file: the verdict first, then one line with the path and reason, exit 2', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'x');
    const r = tlbcheck([...BUGGY, '--out', join(blocker, 'sub')]);
    expect(r.out).toMatch(/^VIOLATED no-stale-tlb-use/m);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/cannot create directory .*a-file\/sub: .*not a directory/);
    expect(r.code).toBe(2);
  });

  it('--out /proc/x ends at once, with the verdict and one line', () => {
    const r = tlbcheck([...BUGGY, '--out', '/proc/x/y'], { timeoutMs: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.out).toMatch(/^VIOLATED/m);
    expect(r.err).toMatch(/cannot create directory \/proc\/x\/y/);
    expect(r.code).toBe(2);
  });

  it('--json keeps the verdict and names the save error', () => {
    const blocker = join(dir, 'b-file');
    writeFileSync(blocker, 'x');
    const r = tlbcheck([...BUGGY, '--json', '--out', join(blocker, 'sub')]);
    const j = JSON.parse(r.out) as { verdict: string; counterexample: unknown; saveError: string };
    expect(j.verdict).toBe('violated');
    expect(j.counterexample).toBeNull();
    expect(j.saveError).toMatch(/not a directory/);
    expect(r.code).toBe(2);
  });

  it('gate: the table is printed even when a mismatch cannot be saved', () => {
    const blocker = join(dir, 'c-file');
    writeFileSync(blocker, 'x');
    // The 4.13 bug variant's C under another id, as a user's patch over linux-4.13.
    const bug = readFileSync(join(ROOT, 'src', 'kernel', 'c', 'linux-4.13', 'variants', 'flush-no-mb.c'), 'utf8');
    const f = join(dir, 'patch.c');
    writeFileSync(f, bug.replace(/\/\* tlbcheck:[\s\S]*?\*\//, '/* tlbcheck: base=linux-4.13 id=renamed-bug */'));
    const r = tlbcheck(['gate', '--variant', f, '--out', join(blocker, 'sub')]);
    expect(r.out).toMatch(/rows as expected/);
    expect(r.out).toMatch(/MISMATCH renamed-bug on switch-vs-flush/);
    expect(r.err.trim().split('\n')[0]).toMatch(/cannot create directory .*not a directory/);
    expect(r.code).toBe(2);
  });

  it('the file writers: never over an existing file, never half a file', () => {
    const p = join(dir, 'new', 'deep', 'f.json');
    expect(writeNewFile(p, 'one')).toBe(true);
    expect(writeNewFile(p, 'two')).toBe(false);
    expect(() => ensureDir(join(dir, 'a-file', 'x'))).toThrow(UserError);
  });
});
