import { describe, expect, it } from 'vitest';
import { QueueValidationError } from '../src/errors/queue-validation-error';
import { assertJobId, JOB_ID_PATTERN, jobIdProblem, MAX_JOB_ID_LENGTH, QUEUE_NAME_PATTERN, queueNameProblem } from '../src/queue/schemas';

// The job id rule (docs/queue.md "Job ids"): 1-128 characters from A-Z a-z 0-9 . _ -, starting
// with a letter or digit, not only digits; queue names follow it except that digits alone are
// fine. What addJob and the CLI do with it: test/queue.jobId.test.ts.

const RULE = 'must be 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit, not only digits';
const QUEUE_RULE = 'must be 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit';
const DIGITS = 'must not be only digits (BullMQ keeps integer ids for its own counter)';

describe('jobIdProblem', () => {
  it('accepts ids of the rule', () => {
    const accepted = ['a', 'Z', '7a', 'a7', 'job-1', 'daily-revenue-20261129T000000Z', 'X.chunk-1', 'org_123.v2', 'a'.repeat(128), '0x10', '1-2', '12.5', '9_', 'a..b', 'A-'];
    for (const id of accepted) {
      expect([id, jobIdProblem(id)]).toEqual([id, undefined]);
      expect([id, JOB_ID_PATTERN.test(id)]).toEqual([id, true]);
    }
  });

  it('refuses everything else, saying why', () => {
    const refused: [unknown, string][] = [
      ['', 'must not be empty'],
      ['0', DIGITS],
      ['123', DIGITS],
      ['9'.repeat(128), DIGITS],
      ['a'.repeat(129), 'must be at most 128 characters (got 129)'],
      ['1'.repeat(200), 'must be at most 128 characters (got 200)'],
      ['X/chunk-1', RULE],
      ['a:b', RULE],
      ['two words', RULE],
      [' lead', RULE],
      ['trail ', RULE],
      ['-leading-dash', RULE],
      ['.hidden', RULE],
      ['_under', RULE],
      ['tab\there', RULE],
      ['line\nbreak', RULE],
      ['nul\u0000', RULE],
      ['caf\u00e9', RULE],
      ['a+b', RULE],
      [42, 'must be a string'],
      [undefined, 'must be a string'],
      [null, 'must be a string'],
    ];
    for (const [id, problem] of refused) expect([id, jobIdProblem(id)]).toEqual([id, problem]);
  });

  it('the pattern alone says the same as the checks (for callers that only test)', () => {
    for (const id of ['', '0', '123', 'a'.repeat(129), 'X/chunk-1', '-a', 'a b', '\u00e9']) expect([id, JOB_ID_PATTERN.test(id)]).toEqual([id, false]);
    expect(MAX_JOB_ID_LENGTH).toBe(128);
  });
});

describe('assertJobId', () => {
  it('passes a good id and throws QueueValidationError naming the field and the value', () => {
    expect(() => assertJobId('aggregation', 'job-1')).not.toThrow();
    let err: unknown;
    try {
      assertJobId('export', 'a/b', 'jobs[3].opts.jobId');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QueueValidationError);
    const v = err as QueueValidationError;
    expect(v.jobName).toBe('export');
    expect(v.issues).toEqual([{ field: 'jobs[3].opts.jobId', value: 'a/b', problem: RULE }]);
    expect(v.message).toBe(`invalid "export" job: jobs[3].opts.jobId: ${RULE} (got "a/b")`);
    expect(() => assertJobId('aggregation', '42')).toThrow(`invalid "aggregation" job: jobId: ${DIGITS} (got "42")`);
  });
});

describe('queueNameProblem', () => {
  it('accepts the job id characters, digits alone included', () => {
    for (const name of ['analytics', 'q1', '123', 'a.b_c-d', 'Q'.repeat(128)]) {
      expect([name, queueNameProblem(name)]).toEqual([name, undefined]);
      expect(QUEUE_NAME_PATTERN.test(name)).toBe(true);
    }
  });

  it('refuses the rest', () => {
    const refused: [unknown, string][] = [
      ['', QUEUE_RULE],
      ['a:b', QUEUE_RULE],
      ['a/b', QUEUE_RULE],
      ['-dash', QUEUE_RULE],
      ['sp ace', QUEUE_RULE],
      ['q'.repeat(129), 'must be at most 128 characters (got 129)'],
      [7, 'must be a string'],
    ];
    for (const [name, problem] of refused) expect([name, queueNameProblem(name)]).toEqual([name, problem]);
  });
});
