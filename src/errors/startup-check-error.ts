/**
 * `analytics workers` (or `start`) found a service it needs unreachable before starting: the
 * message names each one, its address and the variables that set it. An expected failure, so
 * the CLI prints the message alone (exit 1), no stack.
 */
export class StartupCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupCheckError';
  }
}
