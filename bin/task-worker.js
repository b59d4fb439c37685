// Entry of a supervised search worker (src/cli/supervise.ts): a worker starts without the main
// thread's module hooks, so register tsx here too, then load the task body named in workerData.
import './register.js';
import { workerData } from 'node:worker_threads';

await import(new URL(`../src/cli/${workerData.data.task}-task.ts`, import.meta.url).href);
