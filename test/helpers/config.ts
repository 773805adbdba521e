import { loadConfig, type Config } from '../../src/config';

/** The configuration the tests run against: the local services, or whatever the environment says. */
export const testConfig: Config = loadConfig(process.env);

/** A short unique suffix for names a test owns (queue names, task queues, schemas). */
export function uniqueSuffix(): string {
  return `${process.pid.toString(36)}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
