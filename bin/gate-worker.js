// Entry of a `tlbcheck gate --workers N` worker thread: a worker starts without the main
// thread's module hooks, so register tsx here too, then load the TypeScript worker body.
import './register.js';

await import('../src/gate/worker.ts');
