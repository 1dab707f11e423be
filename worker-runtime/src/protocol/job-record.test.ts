import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, type JobRecord } from './job-record.ts';

const record: JobRecord = {
  v: 1,
  id: 'j1',
  name: 'mail',
  data: { to: 'a@b' },
  enqueuedAt: 1,
  attempts: 3,
  attempt: 0,
  backoff: { type: 'fixed', delayMs: 10 },
  timeoutMs: 0,
  lastError: null,
};

describe('job records', () => {
  it('round-trip', () => {
    expect(decodeRecord(encodeRecord(record))).toEqual(record);
  });

  it.each([
    ['{oops', 'job record is not JSON'],
    ['[1]', 'job record must be a JSON object'],
    [JSON.stringify({ ...record, name: '' }), 'job record field "name" must be a non-empty string'],
    [JSON.stringify({ ...record, attempts: 0 }), 'job record field "attempts" must be an integer >= 1'],
    [JSON.stringify({ ...record, backoff: { type: 'linear', delayMs: 1 } }), 'job record field "backoff" must be'],
  ])('rejects %s naming what is wrong', (json, message) => {
    expect(() => decodeRecord(json)).toThrow(message);
  });
});
