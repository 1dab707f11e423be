import { describe, expect, it } from 'vitest';
import { decodeQueueHead } from './queue-head.ts';
import { replyNumber } from './reply.ts';

// A pool may name any key: when what Redis holds there is not what the format expects, the error
// says so by type and size, and never quotes it (status and logs would carry it to the pool's author).

const caught = (work: () => unknown): string => {
  try {
    work();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
};

describe('reply narrowing', () => {
  it('describes a reply that is not a number without quoting it', () => {
    const message = caught(() => replyNumber('token=hunter2', 'job timestamp'));
    expect(message).toBe('job timestamp: expected a number, got a string of 13 characters');
    expect(caught(() => replyNumber(['a', 'b'], 'depth'))).toBe('depth: expected a number, got an array of 2');
  });

  it('names the key and size of a job that is not JSON, never the job (Redis decodes it: only numbers come back)', () => {
    // queue-head-1.lua's reply for 'card=4111111111111111': length 1, status 2 (not JSON), 21 bytes.
    const message = caught(() => decodeQueueHead([1, 2, 0, 21], 'queue:payments'));
    expect(message).toBe('key "queue:payments" holds a job that is not valid JSON (21 bytes)');
  });
});
