import { CronExpressionParser } from 'cron-parser';

export interface CronValidation {
  valid: boolean;
  /** Why it is invalid. */
  error?: string;
}

/**
 * Five-field cron (minute hour day-of-month month day-of-week), the dialect Temporal Schedules and
 * node-cron share. Seconds fields and Quartz extensions are refused so that what validates here
 * means the same in Temporal.
 */
export function validateCronExpression(expression: string): CronValidation {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    return { valid: false, error: `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}` };
  }
  if (fields.some((f) => /[?LW#]/.test(f))) {
    return { valid: false, error: 'Quartz extensions (? L W #) are not supported' };
  }
  try {
    CronExpressionParser.parse(expression, { strict: false });
    return { valid: true };
  } catch (err) {
    return { valid: false, error: (err as Error).message };
  }
}
