import { redactText } from './redact';

/** A configuration variable with an invalid value; start-up stops with its name (never with a secret). */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(redactText(`invalid configuration: ${variable}: ${message}`));
    this.name = 'ConfigError';
  }
}
