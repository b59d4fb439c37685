import { defineConfig } from 'vitest/config';

// Two cores: two worker threads. Exhaustive checks take seconds, hence the timeout.
export default defineConfig({
  test: {
    include: ['properties/**/*.test.ts'],
    pool: 'threads',
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
