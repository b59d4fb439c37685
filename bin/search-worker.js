// Entry of a worker thread of `check --workers N` (src/explore/parallel.ts): register tsx (a
// worker starts without the main thread's module hooks), then run the CLI's worker body.
import './register.js';

await import(new URL('../src/cli/parallel-worker.ts', import.meta.url).href);
