import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { isTemporalUnavailable, toJobError } from '../src/queue/bridge';

// The bridge delays a job, spending no attempt, when Temporal cannot be reached; a workflow that
// failed is a failure of the job. The errors here are the ones a real client raises.

describe('telling a Temporal outage from a failed workflow', () => {
  it('a start against a port where no Temporal answers is an outage', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    const client = new Client({ connection });
    const err = await client
      .withDeadline(Date.now() + 2_000, () => client.workflow.start('aggregationWorkflow', { taskQueue: 'nowhere', workflowId: 'never', args: [] }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(isTemporalUnavailable(err)).toBe(true);
    await connection.close();
  });

  it('a failed workflow, a bad payload or a plain error is not', () => {
    const failed = new WorkflowFailedError('Workflow execution failed', ApplicationFailure.create({ type: 'TenantsFailedError', message: '1 of 3 tenants failed' }), 'NON_RETRYABLE_FAILURE');
    expect(isTemporalUnavailable(failed)).toBe(false);
    // The job error the bridge makes of a failed workflow, even when a tenant's message mentions a refused connection.
    const jobError = toJobError(
      new WorkflowFailedError('Workflow execution failed', ApplicationFailure.create({ type: 'TenantsFailedError', message: '2 of 3 tenants failed: t1 (TransientDatabaseError: database unavailable (connect ECONNREFUSED 127.0.0.1:5432))' }), 'NON_RETRYABLE_FAILURE'),
      'job-1',
      'aggregation/job-1',
    );
    expect(jobError.message).toContain('ECONNREFUSED');
    expect(isTemporalUnavailable(jobError)).toBe(false);
    expect(isTemporalUnavailable(new Error('payload: type must be one of revenue, cohorts'))).toBe(false);
    expect(isTemporalUnavailable(undefined)).toBe(false);
  });
});
