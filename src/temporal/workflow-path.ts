import { fileURLToPath } from 'node:url';

/** The workflow bundle's entry point, next to this module: the sources in development, the compiled files in dist/. */
export const WORKFLOWS_PATH = fileURLToPath(new URL(`../workflows/index${import.meta.url.endsWith('.js') ? '.js' : '.ts'}`, import.meta.url));
