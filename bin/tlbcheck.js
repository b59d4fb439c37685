#!/usr/bin/env node
// Entry point: registers tsx so the TypeScript sources (and a user's --variant ./file.ts)
// load without a build step, then hands over to the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
