#!/usr/bin/env node
// The `analytics` command.
// - Installed from the package (or in the container image) there is no src/: it runs the
//   compiled JavaScript in dist/ on plain Node.
// - In a development checkout (src/ is here) it runs the TypeScript sources through tsx, as
//   `npm run analytics` does, so an edit takes effect without a build and a stale dist/ is never
//   run by mistake. `npm run build` and `node dist/cli/index.js …` run the compiled code there.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/index.ts', import.meta.url);

if (existsSync(source)) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error('analytics: this is a development checkout (src/ is present) and tsx is not installed: run `npm ci`');
    process.exit(2);
  }
  register();
  await import(source.href);
} else {
  await import('../dist/cli/index.js');
}
