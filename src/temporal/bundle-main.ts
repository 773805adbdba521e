// Bundles the workflow code into the file named by argv[2], then exits: run as a child process
// by workflowBundle() (./worker.ts), so webpack's memory (over 100 MB) never counts against the
// worker process's resident set.
import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from './workflow-path';

const out = process.argv[2];
if (!out) {
  console.error('usage: bundle-main <output file>');
  process.exit(2);
}
const noop = () => {};
const withSourceMap = process.env.WORKFLOW_SOURCE_MAPS === '1';
const { code } = await bundleWorkflowCode({
  workflowsPath: WORKFLOWS_PATH,
  logger: { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop },
  // Without a source map, each workflow thread skips parsing a megabyte-sized map and every
  // promise the sandbox tracks skips a source-map lookup for its stack trace.
  ...(withSourceMap ? {} : { webpackConfigHook: (config) => ({ ...config, devtool: false }) }),
});
// The SDK requires an inline source map: an empty one keeps stack traces in bundle positions.
const emptyMap = Buffer.from(JSON.stringify({ version: 3, file: 'workflow-bundle.js', sources: [], names: [], mappings: '' })).toString('base64');
await writeFile(out, withSourceMap ? code : `${code.replace(/\n\/\/# sourceMappingURL=.*$/s, '')}\n//# sourceMappingURL=data:application/json;base64,${emptyMap}`);
