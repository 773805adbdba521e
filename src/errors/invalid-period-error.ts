import { InvalidInputError } from './invalid-input-error';

/** A malformed date, an unknown period type, or a range that ends before it starts. */
export class InvalidPeriodError extends InvalidInputError {
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(field, `${field}: ${message}`, options);
    this.name = 'InvalidPeriodError';
  }
}
