/** A schedule id that is not one of SCHEDULES: a programming or usage error, never retried. */
export class UnknownScheduleError extends Error {
  constructor(
    readonly scheduleId: string,
    options?: { cause?: unknown },
  ) {
    super(`unknown schedule "${scheduleId}"`, options);
    this.name = 'UnknownScheduleError';
  }
}
