export { InvalidInputError } from './invalid-input-error';
export { UnknownTenantError } from './unknown-tenant-error';
export { InactiveTenantError } from './inactive-tenant-error';
export { InvalidPeriodError } from './invalid-period-error';
export { TooManyPeriodsError } from './too-many-periods-error';
export { TransientDatabaseError } from './transient-database-error';
export { InvalidDataError } from './invalid-data-error';
export { SeedConflictError } from './seed-conflict-error';

/**
 * Error names a retry policy must not retry (Temporal's `nonRetryableErrorTypes` matches the
 * thrown error's `name` exactly, so every subclass is listed, not just the base class).
 */
export const NON_RETRYABLE_ERROR_TYPES = [
  'InvalidInputError',
  'UnknownTenantError',
  'InactiveTenantError',
  'InvalidPeriodError',
  'TooManyPeriodsError',
  'InvalidDataError',
] as const;
