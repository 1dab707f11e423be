import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../protocol/job-record.ts';
import { UnrecoverableError } from './errors.ts';
import { decideFailure } from './failure-policy.ts';

const record: JobRecord = {
  v: 1,
  id: 'j1',
  name: 'mail',
  data: {},
  enqueuedAt: 0,
  attempts: 3,
  attempt: 0,
  backoff: { type: 'exponential', delayMs: 100 },
  timeoutMs: 0,
  lastError: null,
};

describe('what happens to a failed run', () => {
  it('retries while attempts are left, counting the failure and keeping the error', () => {
    const decision = decideFailure(record, new Error('smtp down'), () => 1);
    expect(decision).toMatchObject({ kind: 'retry', delayMs: 100, record: { attempt: 1 } });
    expect(decision.record.lastError).toContain('Error: smtp down');
  });

  it('gives up after the last attempt', () => {
    expect(decideFailure({ ...record, attempt: 2 }, new Error('still down'))).toMatchObject({
      kind: 'dead',
      reason: 'attempts-exhausted',
      record: { attempt: 3 },
    });
  });

  it('gives up at once on an UnrecoverableError', () => {
    expect(decideFailure(record, new UnrecoverableError('bad address'))).toMatchObject({
      kind: 'dead',
      reason: 'unrecoverable',
      record: { attempt: 1 },
    });
  });

  it('recognises an UnrecoverableError from another copy of the package by its name', () => {
    class UnrecoverableError extends Error {
      override name = 'UnrecoverableError';
    }
    expect(decideFailure(record, new UnrecoverableError('bad input')).kind).toBe('dead');
  });

  it('keeps a thrown non-Error readable', () => {
    expect(decideFailure(record, 'plain string').record.lastError).toBe('plain string');
  });
});
