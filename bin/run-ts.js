#!/usr/bin/env node
// Runs one TypeScript file (e.g. the benchmark) through tsx, passing the remaining arguments.
import './register.js';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: run-ts FILE [ARGS...]');
  process.exit(2);
}
process.argv = [process.argv[0], file, ...rest];
await import(pathToFileURL(resolve(file)).href);
