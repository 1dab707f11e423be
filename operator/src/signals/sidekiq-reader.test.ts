import { describe, expect, it } from 'vitest';
import { sidekiqKeys, sidekiqTimeToMs } from './sidekiq-reader.ts';

describe('sidekiq layout details', () => {
  it('reads enqueued_at as float seconds (6.x, 7.x) or integer milliseconds (8.x) by magnitude', () => {
    expect(sidekiqTimeToMs(1_795_426_000.25)).toBe(1_795_426_000_250);
    expect(sidekiqTimeToMs(1_795_426_000)).toBe(1_795_426_000_000);
    expect(sidekiqTimeToMs(1_795_426_000_250)).toBe(1_795_426_000_250);
  });

  it('puts every key under the redis-namespace, with or without its trailing colon', () => {
    expect(sidekiqKeys('billing').queue('mailers')).toBe('billing:queue:mailers');
    expect(sidekiqKeys('billing:').schedule).toBe('billing:schedule');
    expect(sidekiqKeys(undefined)).toMatchObject({
      ns: '',
      retry: 'retry',
      processes: 'processes',
      processed: 'stat:processed',
    });
  });
});
