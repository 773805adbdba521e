import { InvalidInputError } from './invalid-input-error';

/** No organization has this id. */
export class UnknownTenantError extends InvalidInputError {
  constructor(readonly tenantId: string) {
    super('tenantId', `tenantId: unknown tenant ${JSON.stringify(tenantId)}`);
    this.name = 'UnknownTenantError';
  }
}
