import { InvalidInputError } from './invalid-input-error';

/** The range covers more periods than one call may compute (a guard against typos like 0025-01-01). */
export class TooManyPeriodsError extends InvalidInputError {
  constructor(
    field: string,
    readonly maxPeriods: number,
    what = 'periods',
  ) {
    super(field, `${field}: the range covers more than ${maxPeriods} ${what} (the maximum per call)`);
    this.name = 'TooManyPeriodsError';
  }
}
