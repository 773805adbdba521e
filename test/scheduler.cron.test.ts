import { describe, expect, it } from 'vitest';
import { validateCronExpression } from '../src/scheduler/cron';
import { SCHEDULES } from '../src/scheduler/definitions';

describe('validateCronExpression', () => {
  it.each(['0 * * * *', '0 0 * * *', '0 1 1 * *', '0 2 * * 1', '*/15 9-17 * * 1-5', '30 4 1,15 * *'])('accepts %s', (expr) => {
    expect(validateCronExpression(expr)).toEqual({ valid: true });
  });

  it.each([
    ['61 * * * *', /61/],
    ['0 25 * * *', /25/],
    ['0 0 * *', /expected 5 fields/],
    ['0 0 0 * * *', /expected 5 fields/],
    ['0 0 ? * MON', /Quartz/],
    ['0 0 L * *', /Quartz/],
    ['every hour', /expected 5 fields|invalid/i],
  ])('rejects %s with a reason', (expr, reason) => {
    const r = validateCronExpression(expr);
    expect(r.valid).toBe(false);
    expect(r.error).toMatch(reason);
  });

  it('every schedule of the design is valid', () => {
    for (const s of SCHEDULES) expect(validateCronExpression(s.cron), s.id).toEqual({ valid: true });
  });
});
