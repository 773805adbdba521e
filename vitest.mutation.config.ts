import { defineConfig } from 'vitest/config';

// The tests Stryker runs against each mutant (`npm run test:mutation`, docs/TESTING.md): fast,
// pure unit tests of the planning, validation, error-mapping and config modules. No global setup,
// no services, so one run of them takes a second or two.
export const MUTATION_TEST_FILES = [
  'test/aggregation.periods.test.ts',
  'test/aggregation.cohortMonths.test.ts',
  'test/aggregation.jobPlan.test.ts',
  'test/aggregation.transient.test.ts',
  'test/queue.schemas.test.ts',
  'test/queue.payloadRules.test.ts',
  'test/queue.jobIdRule.test.ts',
  'test/queue.jobClass.test.ts',
  'test/config.test.ts',
  'test/config.parse.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    include: MUTATION_TEST_FILES,
    testTimeout: 10_000,
  },
});
