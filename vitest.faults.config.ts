import { defineConfig } from 'vitest/config';

// The fault suite (test/faults/*.fault.ts and *.test.ts, `npm run test:faults`; the *.test.ts files, short, also run in `npm test`): each file starts its own private
// Redis, Postgres and Temporal dev server and breaks them on purpose, so files run one at a time.
// It takes longer than the normal suite's budget, hence its own config and file suffix.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/faults/**/*.fault.ts', 'test/faults/**/*.test.ts'],
    setupFiles: ['test/setup/runtime.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 900_000,
    hookTimeout: 300_000,
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
