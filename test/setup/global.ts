import { access, constants } from 'node:fs/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import { TEMPORAL_CLI, TEMPORAL_TEST_SERVER } from '../../src/paths';
import { freePort } from '../helpers/ports';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalTestServerPath: string;
    /** Base URL of the dev server's Web UI (e.g. http://127.0.0.1:41234). */
    temporalUiUrl: string;
  }
}


async function requireExecutable(path: string, what: string): Promise<void> {
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new Error(`${what} is missing at ${path}: run ./dev.sh setup (or ./dev.sh test) first`);
  }
}

/**
 * One Temporal dev server for the whole run (two cores cannot afford one per file), or the
 * server at TEMPORAL_ADDRESS when that is set. Test files connect to it; time-skipping tests
 * start their own test server from the provided path.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await requireExecutable(TEMPORAL_TEST_SERVER, 'The Temporal time-skipping test server');
  project.provide('temporalTestServerPath', TEMPORAL_TEST_SERVER);
  const existing = process.env.TEMPORAL_ADDRESS;
  if (existing) {
    project.provide('temporalAddress', existing);
    project.provide('temporalUiUrl', process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233');
    return async () => {};
  }
  await requireExecutable(TEMPORAL_CLI, 'The Temporal CLI');
  // An explicit UI port: the default (server port + 1000) may be taken or past 65535.
  const uiPort = await freePort();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_CLI },
      ui: true,
      uiPort,
      searchAttributes: [...SEARCH_ATTRIBUTES],
      log: { format: 'pretty', level: 'warn' },
    },
  });
  project.provide('temporalAddress', env.address);
  project.provide('temporalUiUrl', `http://localhost:${uiPort}`);
  return async () => {
    await env.teardown();
  };
}
