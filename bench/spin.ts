/**
 * Runs SPIN on a reference Promela model, the way the anchors' run.sh does (spin -a, gcc -O2
 * -DSAFETY -DNOREDUCE, ./pan -m1000000, in a temporary directory), and times `./pan`. The
 * models are not part of this repository: they are looked up at `--spin-dir DIR`, default
 * `../shared/anchors/spin` next to the checkout.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SpinResult {
  readonly verdict: string;
  readonly states: number;
  /** Wall time of `./pan` (the anchors' figure). */
  readonly ms: number;
  /** Wall time of `spin -a` and gcc before it: what a fresh edit of the model costs on top. */
  readonly buildMs: number;
}

export function spinAvailable(dir: string): string | undefined {
  if (spawnSync('spin', ['-V']).status !== 0) return 'spin is not installed (apt-get install spin)';
  if (spawnSync('gcc', ['--version']).status !== 0) return 'gcc is not installed';
  if (!existsSync(dir)) return `no SPIN models at ${dir} (use --spin-dir)`;
  return undefined;
}

export function runSpin(dir: string, model: string, defines: readonly string[]): SpinResult {
  const work = mkdtempSync(join(tmpdir(), 'tlbcheck-spin-'));
  try {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.pml'))) cpSync(join(dir, f), join(work, f));
    const b0 = process.hrtime.bigint();
    execFileSync('spin', [...defines, '-a', model], { cwd: work, stdio: 'ignore' });
    execFileSync('gcc', ['-w', '-O2', '-DSAFETY', '-DNOREDUCE', '-o', 'pan', 'pan.c'], { cwd: work, stdio: 'ignore' });
    const buildMs = Math.round(Number(process.hrtime.bigint() - b0) / 1e6);
    const t0 = process.hrtime.bigint();
    const r = spawnSync('./pan', ['-m1000000'], { cwd: work, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const out = r.stdout;
    const errors = Number(/errors: (\d+)/.exec(out)?.[1] ?? 'NaN');
    const states = Number(/([\d.e+]+) states, stored/.exec(out)?.[1] ?? 'NaN');
    const assertion = /assertion violated\s+!\(([A-Za-z_]+)\)/.exec(out)?.[1];
    const verdict = errors === 0 ? 'holds' : `violated ${assertion ?? '?'}`;
    return { verdict, states, ms: Math.round(ms), buildMs };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
