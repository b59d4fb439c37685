/**
 * Shared pieces of the robustness suites: user variant files written into a temporary folder
 * outside the clone (so every suite also shows that a patch file loads from anywhere), and the
 * real binary run as a user would run it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'tlbcheck.js');

/** A temporary folder outside the clone (helpers.tempDir: removed after the test file). */
export const scratch = tempDir;

export const removeDir = (dir: string): void => rmSync(dir, { recursive: true, force: true });

/** A 4.13 variant whose `switch_mm_irqs_off` is `body` (a generator body over k, prev, next). */
export function variantSource(id: string, body: string): string {
  return [
    "import { derive, fx, getVariant, type K, type CoreRoutines } from 'tlbcheck';",
    "const base = getVariant('linux-4.13');",
    'export default derive(base, {',
    `  id: '${id}',`,
    "  title: 'robustness fixture',",
    '  routines: {',
    '    switch_mm_irqs_off: function* (k: K<CoreRoutines>, prev: number, next: number) {',
    '      void fx; void prev; void next;',
    body,
    '    },',
    '  },',
    '});',
    '',
  ].join('\n');
}

export function writeVariant(dir: string, name: string, body: string): string {
  const path = join(dir, `${name}.ts`);
  writeFileSync(path, variantSource(name, body));
  return path;
}

export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
  readonly err: string;
  readonly ms: number;
}

/** Run the real binary to the end (with a safety timeout far above any expected run). */
export function tlbcheck(args: readonly string[], opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Run {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    env: { ...process.env, ...opts.env },
  });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
}

/** Run the real binary and send it SIGINT once its output contains `when` (or after `afterMs`). */
export function interrupted(args: readonly string[], afterMs: number): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), afterMs);
    const safety = setTimeout(() => child.kill('SIGKILL'), afterMs + 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(safety);
      resolve({ code, signal, out, err, ms: Date.now() - t0 });
    });
  });
}

/** An error report as the issue asks: one line, no stack trace. */
export function oneLine(err: string): boolean {
  const lines = err.trim().split('\n');
  return lines.length === 1 && !/^\s+at /m.test(err) && !err.includes('[tlbcheck bug]');
}
