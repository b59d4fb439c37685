#!/usr/bin/env node
// Entry point: registers tsx so the TypeScript sources (and a user's --variant ./file.ts)
// load without a build step, then hands over to the CLI.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';

// Node started with a small heap (--max-old-space-size): V8's heap flags are process-wide and
// would cap the search workers too, so the heap, not the --max-memory budget, would stop a
// search. Run again without them; the child handles Ctrl-C and its exit code is ours.
const SMALL_HEAP = 1024 * 1048576;
if (process.env.TLBCHECK_HEAP_REEXEC !== '1' && getHeapStatistics().heap_size_limit < SMALL_HEAP) {
  process.on('SIGINT', () => {});
  const flags = process.execArgv.filter((a) => !/^--(max-old-space-size|max-semi-space-size|max-heap-size)/.test(a));
  const r = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TLBCHECK_HEAP_REEXEC: '1' },
  });
  process.exit(r.status ?? (r.signal === 'SIGINT' ? 130 : 70));
}

// check and gate handle Ctrl-C themselves (src/cli/early-sigint.ts): note one that comes while
// tlbcheck is still loading, instead of dying with nothing printed.
if (['check', 'gate'].includes(process.argv[2] ?? '')) {
  const note = { interrupted: false };
  globalThis[Symbol.for('tlbcheck.earlySigint')] = note;
  process.on('SIGINT', () => {
    note.interrupted = true;
  });
}

await import('./register.js');
// A closed pipe (`tlbcheck replay FILE | head`) ends the output quietly, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
