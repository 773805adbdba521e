import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';

// Backfills run on a task queue of their own with their own slots (src/queue/job-class.ts), but
// they share the machine's cores with the other jobs. While any other job's activity runs in
// this process, backfill tenant activities start at most `yieldSlots` at once (none by default), so
// an hourly job has Postgres to itself apart from the backfill statements already running. A
// backfill activity that has waited `maxYieldMs` starts anyway, one at a time, so a steady
// stream of other jobs slows backfills down but never stops them. When nothing else runs,
// backfills have every slot of their lane.

export interface LaneGateOptions {
  /** Whether an activity belongs to the backfill lane (by its task queue). */
  isBulk(taskQueue: string): boolean;
  /** Backfill activities at once while other jobs' activities run. @defaultValue 0 */
  yieldSlots?: number;
  /** How long a backfill activity waits at most for other jobs before it starts anyway (one at a time). @defaultValue 30000 */
  maxYieldMs?: number;
  /** How long after the last other activity ended backfills still yield (the gap between two of a job's tenants). @defaultValue 500 */
  quietMs?: number;
  /** The backfill activity types gated (any activity of another job makes them wait). @defaultValue ['aggregateTenant'] */
  activityTypes?: readonly string[];
}

interface Waiter {
  since: number;
  start(): void;
}

/** One gate per process, shared by its job and backfill workers' interceptors. */
export function createLaneGate(options: LaneGateOptions): ActivityInterceptorsFactory {
  const types = new Set(options.activityTypes ?? ['aggregateTenant']);
  const yieldSlots = options.yieldSlots ?? 0;
  const maxYieldMs = options.maxYieldMs ?? 30_000;
  const quietMs = options.quietMs ?? 500;
  let othersRunning = 0;
  let othersEndedAt = 0;
  let bulkRunning = 0;
  const waiting: Waiter[] = [];
  let timer: NodeJS.Timeout | undefined;

  const othersBusy = (now: number) => othersRunning > 0 || now - othersEndedAt < quietMs;
  /** Backfill activities allowed to run now. */
  const limit = (now: number) => {
    if (!othersBusy(now)) return Infinity;
    const overdue = waiting.length > 0 && now - waiting[0]!.since >= maxYieldMs;
    return overdue ? Math.max(yieldSlots, 1) : yieldSlots;
  };
  const admit = () => {
    const now = Date.now();
    while (waiting.length > 0 && bulkRunning < limit(now)) {
      bulkRunning += 1;
      waiting.shift()!.start();
    }
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    // Look again when the quiet period is over or the oldest waiter is overdue, whichever is first.
    const untilQuiet = othersRunning === 0 ? othersEndedAt + quietMs - now : Infinity;
    const untilOverdue = waiting[0]!.since + maxYieldMs - now;
    const wait = Math.min(untilQuiet, untilOverdue);
    if (!Number.isFinite(wait)) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        admit();
      },
      Math.max(1, wait),
    );
    timer.unref();
  };

  return (ctx: Context) => ({
    inbound: {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
        // Any activity of another job counts (its planning too: an incremental hourly job is
        // mostly planning queries); only the backfills' tenant activities wait.
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
        if (!types.has(ctx.info.activityType)) return next(input);
        await new Promise<void>((resolve) => {
          waiting.push({ since: Date.now(), start: resolve });
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
