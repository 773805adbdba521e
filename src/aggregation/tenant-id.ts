import { InvalidInputError } from '../errors/invalid-input-error';

/** A tenant id as every aggregation entry point takes it: a non-empty string, else an InvalidInputError naming `tenantId`. */
export function assertTenantId(value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidInputError('tenantId', `tenantId: expected a non-empty string, got ${JSON.stringify(value)}`);
  }
}
