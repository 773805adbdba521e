/** A module-level scheduler function (`startScheduler`, `triggerTask`, …) called before `initializeScheduler()` or after `closeScheduler()` / `destroyScheduler()`. */
export class SchedulerNotInitializedError extends Error {
  constructor(what: string) {
    super(`${what}: the scheduler is not initialized; call initializeScheduler() first`);
    this.name = 'SchedulerNotInitializedError';
  }
}
