import { createActivities, type ActivityDeps } from './index';
import { createExportActivities } from './export';
import { createPlanningActivities } from './planning';
import { createReportActivities } from './report';

export interface JobActivityDeps extends ActivityDeps {
  /** Where `export` jobs write their files. */
  exportDir: string;
  /** Where `scheduled-report` jobs write their files. */
  reportDir: string;
  /** Rows an export reads per page. @defaultValue 500 */
  exportPageSize?: number;
}

/**
 * Every activity the job workflows (aggregation, export, scheduled report) call, as the worker
 * process registers them on its jobs task queue.
 */
export function createJobActivities({ db, clock, logger, metrics, exportDir, reportDir, exportPageSize }: JobActivityDeps) {
  return {
    ...createActivities({ db, clock, logger, ...(metrics ? { metrics } : {}) }),
    ...createPlanningActivities({ db, logger, clock }),
    ...createExportActivities({ db, logger, exportDir, ...(exportPageSize !== undefined ? { pageSize: exportPageSize } : {}) }),
    ...createReportActivities({ db, logger, clock, reportDir }),
  };
}
