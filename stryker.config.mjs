// Mutation testing of the pure logic (docs/TESTING.md): `npm run test:mutation` runs the pure
// unit tests of vitest.mutation.config.ts against each mutant, two at a time (two cores).
// `npm run test:mutation:typed` type-checks each mutant first (tsconfig.mutation.json) and
// discards those that do not compile; on two cores the checker is most of the cost (about ten
// times slower here), so the everyday run leaves it out.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  checkers: [],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  mutate: [
    'src/aggregation/periods.ts',
    'src/aggregation/cohort-months.ts',
    'src/aggregation/job-plan.ts',
    'src/aggregation/transient.ts',
    'src/queue/schemas.ts',
    'src/queue/job-class.ts',
    'src/config.ts',
  ],
  // No incremental mode: it reuses results of module-level ("static") mutants even when new tests
  // would kill them, and a full run takes minutes anyway.
  concurrency: 2,
  timeoutMS: 10_000,
  thresholds: { high: 90, low: 80, break: 80 },
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  // The sandbox is a copy of the project: leave out the services' data (a Postgres socket cannot be
  // copied), build output and everything the pure tests do not read.
  ignorePatterns: ['/.local', '/dist', '/artifacts', '/bench', '/docs', '/docker', '/.ci', '/prisma', '/scripts'],
  cleanTempDir: 'always',
};
