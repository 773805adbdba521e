import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';

/**
 * Heartbeats on the activity's behalf while it runs, a few times per heartbeat timeout. The
 * aggregation activities are single SQL statements that cannot report progress; the heartbeat
 * only proves the worker is alive, so when a worker dies its calls are retried after
 * `heartbeatTimeout` (a minute) instead of `startToCloseTimeout`.
 */
export const autoHeartbeat: ActivityInterceptorsFactory = (ctx: Context) => ({
  inbound: {
    async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
      const timeoutMs = ctx.info.heartbeatTimeoutMs;
      if (!timeoutMs) return next(input);
      const timer = setInterval(() => ctx.heartbeat(), Math.max(100, Math.floor(timeoutMs / 3)));
      try {
        return await next(input);
      } finally {
        clearInterval(timer);
      }
    },
  },
});

/**
 * Reports which attempt produced an activity's outcome, for the activities named: a plain-object
 * result gains an `attempt` field, and a failure becomes an ApplicationFailure of the same type
 * and message with `{ attempt }` as its details. The workflows put it in each tenant's outcome
 * ("failed after 3 attempts"); the retry policy sees the same error type as before.
 */
export function reportAttempts(activityTypes: readonly string[]): ActivityInterceptorsFactory {
  const names = new Set(activityTypes);
  return (ctx: Context) => ({
    inbound: {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
        if (!names.has(ctx.info.activityType)) return next(input);
        const attempt = ctx.info.attempt;
        let result: unknown;
        try {
          result = await next(input);
        } catch (err) {
          if (err instanceof ApplicationFailure || err instanceof CancelledFailure || !(err instanceof Error)) throw err;
          throw ApplicationFailure.create({ type: err.name, message: err.message, details: [{ attempt }], cause: err });
        }
        if (result !== null && typeof result === 'object' && !Array.isArray(result)) return { ...result, attempt };
        return result;
      },
    },
  });
}
