import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    setupFiles: ['test/setup/runtime.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: a few files at a time, each owning its queue, task queue and schema.
    maxWorkers: 3,
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
