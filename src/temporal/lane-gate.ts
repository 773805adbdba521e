import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';

// Backfills run on a task queue of their own with their own slots (src/queue/job-class.ts), but
// they share the machine's cores with the other jobs. While any other job's tenant activity runs
// in this process, backfill activities run at most `yieldSlots` at once, so an hourly job keeps
// most of Postgres; when nothing else runs, backfills have every slot of their lane.

export interface LaneGateOptions {
  /** Whether an activity belongs to the backfill lane (by its task queue). */
  isBulk(taskQueue: string): boolean;
  /** Backfill activities at once while other jobs' activities run. @defaultValue 2 */
  yieldSlots: number;
  /** How long after the last other activity ended backfills still yield (the gap between two of a job's tenants). @defaultValue 500 */
  quietMs?: number;
  /** The activity types gated. @defaultValue ['aggregateTenant'] */
  activityTypes?: readonly string[];
}

/** One gate per process, shared by its job and backfill workers' interceptors. */
export function createLaneGate(options: LaneGateOptions): ActivityInterceptorsFactory {
  const types = new Set(options.activityTypes ?? ['aggregateTenant']);
  const quietMs = options.quietMs ?? 500;
  let othersRunning = 0;
  let othersEndedAt = 0;
  let bulkRunning = 0;
  const waiting: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;

  const othersBusy = () => othersRunning > 0 || Date.now() - othersEndedAt < quietMs;
  const admit = () => {
    while (waiting.length > 0 && (!othersBusy() || bulkRunning < options.yieldSlots)) {
      bulkRunning += 1;
      waiting.shift()!();
    }
    // Backfills held only by the quiet period: look again when it is over.
    if (waiting.length > 0 && othersRunning === 0 && !timer) {
      timer = setTimeout(() => {
        timer = undefined;
        admit();
      }, quietMs);
      timer.unref();
    }
  };

  return (ctx: Context) => ({
    inbound: {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
        if (!types.has(ctx.info.activityType)) return next(input);
        if (!options.isBulk(ctx.info.taskQueue)) {
          othersRunning += 1;
          try {
            return await next(input);
          } finally {
            othersRunning -= 1;
            othersEndedAt = Date.now();
            admit();
          }
        }
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          admit();
        });
        try {
          return await next(input);
        } finally {
          bulkRunning -= 1;
          admit();
        }
      },
    },
  });
}
