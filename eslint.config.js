import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: it may import @temporalio/workflow,
// other workflow modules and *types* from activities, nothing with side effects or I/O.
const workflowRestrictions = {
  paths: [
    'bullmq', 'ioredis', 'pg', 'pino', 'luxon', 'zod', 'commander', 'cli-progress', 'cron-parser',
    '@prisma/client', '@prisma/adapter-pg', '@temporalio/client', '@temporalio/worker', '@temporalio/activity',
  ].map((name) => ({ name, message: 'Workflow code must stay deterministic: no I/O libraries in src/workflows.' })),
  patterns: [
    { group: ['node:*'], message: 'No Node built-ins in workflow code.' },
    { group: ['fs', 'path', 'os', 'crypto', 'http', 'https', 'net', 'child_process', 'worker_threads', 'timers'], message: 'No Node built-ins in workflow code.' },
    { group: ['**/generated/**', '**/db/**', '**/queue/**', '**/cli/**', '**/scheduler/**'], message: 'Workflow code may not import I/O modules.' },
    { group: ['**/activities/**', '../activities', '../activities/*'], allowTypeImports: true, message: 'Import only types from activities (import type).' },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'src/generated/**', '.local/**', 'dist/**', 'artifacts/**', 'reports/**', '.stryker-tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', workflowRestrictions],
    },
  },
);
