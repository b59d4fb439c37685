import { defineConfig } from 'vitest/config';

// Two cores: two worker threads. Exhaustive checks take seconds, hence the timeout.
// Temp folders: one root per run, removed per test file; a leftover fails the run
// (properties/setup/temp-root.ts).
export default defineConfig({
  test: {
    include: ['properties/**/*.test.ts'],
    pool: 'threads',
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 60_000,
    globalSetup: ['properties/setup/temp-root.ts'],
    setupFiles: ['properties/setup/clean-temp.ts'],
  },
});
