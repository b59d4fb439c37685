// Module hooks every entry point (the CLI, its worker threads, the benchmark) installs first:
// the variant-file hooks, then tsx, so TypeScript sources and a user's variant file load
// without a build step, from any directory.
import { register as registerHooks } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerHooks('./variant-hooks.mjs', import.meta.url);
registerTsx();
