import { describe, expect, it } from 'vitest';
import { parseJobJson, replyNumber } from './reply.ts';

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

  it('names the key of a job that is not JSON, not the job, nor JSON.parse words that quote it', () => {
    const message = caught(() => parseJobJson('card=4111111111111111', 'queue:payments'));
    expect(message).toBe('key "queue:payments" holds a job that is not valid JSON (21 characters)');
  });
});
