#!/usr/bin/env node
// Entry point: registers tsx so the TypeScript sources (and a user's --variant ./file.ts)
// load without a build step, then hands over to the CLI.
import './register.js';

// A closed pipe (`tlbcheck replay FILE | head`) ends the output quietly, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
