import { InvalidInputError } from './invalid-input-error';

/** The organization exists but is not `active` (suspended or deleted): nothing is aggregated for it. */
export class InactiveTenantError extends InvalidInputError {
  constructor(
    readonly tenantId: string,
    readonly status: string,
  ) {
    super('tenantId', `tenantId: tenant ${JSON.stringify(tenantId)} is ${status}, not active`);
    this.name = 'InactiveTenantError';
  }
}
