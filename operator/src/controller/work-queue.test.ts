import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter, WorkQueue } from './work-queue.ts';

describe('WorkQueue', () => {
  it('stores a waiting key once however often it is added', async () => {
    const queue = new WorkQueue();
    queue.add('billing/mailers');
    queue.add('billing/mailers');
    queue.add('billing/reports');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('billing/mailers');
    expect(await queue.get()).toBe('billing/reports');
  });

  it('never hands a key that is being processed to a second worker, and requeues it on done()', async () => {
    const queue = new WorkQueue();
    queue.add('a/pool');
    const first = await queue.get();
    queue.add('a/pool'); // an event arrives while the first reconcile runs
    expect(queue.length).toBe(0);
    let second: string | undefined;
    void queue.get().then((key) => (second = key));
    await Promise.resolve();
    expect(second).toBeUndefined();
    queue.done(first ?? '');
    await Promise.resolve();
    expect(second).toBe('a/pool');
  });

  it('hands out every normal key before any low-priority one, so that refreshes never delay a scale-up', async () => {
    const queue = new WorkQueue();
    queue.add('a/refresh-1', 'low');
    queue.add('a/refresh-2', 'low');
    queue.add('a/scale-up');
    expect(queue.length).toBe(3);
    expect(await queue.get()).toBe('a/scale-up');
    expect(await queue.get()).toBe('a/refresh-1');
    expect(await queue.get()).toBe('a/refresh-2');
  });

  it('moves a waiting low-priority key ahead when it is added again as normal, and stores it once', async () => {
    const queue = new WorkQueue();
    queue.add('a/other', 'low');
    queue.add('a/pool', 'low');
    queue.add('a/pool');
    queue.add('a/pool', 'low'); // a later refresh does not demote it again
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('a/pool');
    expect(await queue.get()).toBe('a/other');
  });

  it('requeues a key added during processing at the priority it was asked for', async () => {
    const queue = new WorkQueue();
    queue.add('a/busy');
    const first = await queue.get();
    queue.add('a/busy', 'low');
    queue.add('a/waiting');
    queue.done(first ?? '');
    expect(await queue.get()).toBe('a/waiting');
    expect(await queue.get()).toBe('a/busy');

    queue.done('a/waiting');
    queue.done('a/busy');
    queue.add('a/busy', 'low');
    const second = await queue.get();
    queue.add('a/later', 'low');
    queue.add('a/busy', 'low');
    queue.add('a/busy'); // a replica change arrives while the refresh runs
    queue.done(second ?? '');
    expect(await queue.get()).toBe('a/busy');
    expect(await queue.get()).toBe('a/later');
  });

  it('wakes a waiting worker as soon as a key arrives', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.add('ns/name');
    await expect(waiting).resolves.toBe('ns/name');
  });

  it('releases waiting workers with undefined on shutdown', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    await expect(waiting).resolves.toBeUndefined();
  });

  describe('with timers', () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it('retries a failing key after an exponentially growing delay, reset by forget()', async () => {
      const queue = new WorkQueue(
        new RateLimiter({ baseDelayMs: 100, maxDelayMs: 10_000, perSecond: 1000, burst: 1000 }),
      );
      const delays: number[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        const started = Date.now();
        queue.addRateLimited('ns/flaky');
        const next = queue.get();
        await vi.runAllTimersAsync();
        expect(await next).toBe('ns/flaky');
        delays.push(Date.now() - started);
        queue.done('ns/flaky');
      }
      expect(delays).toEqual([100, 200, 400]);
      queue.forget('ns/flaky');
      expect(queue.retries('ns/flaky')).toBe(0);
    });

    it('retryNow() queues a backed-off key at once, with its failures forgotten and its pending retry dropped', async () => {
      const queue = new WorkQueue(
        new RateLimiter({ baseDelayMs: 60_000, maxDelayMs: 1000_000, perSecond: 1000, burst: 1000 }),
      );
      queue.addRateLimited('ns/outage');
      queue.addRateLimited('ns/outage'); // failed twice: next try in 60 s (the earlier of 60 s and 120 s)
      expect(queue.retries('ns/outage')).toBe(2);
      queue.retryNow('ns/outage', 'low');
      expect(queue.retries('ns/outage')).toBe(0);
      expect(await queue.get()).toBe('ns/outage');
      queue.done('ns/outage');
      await vi.advanceTimersByTimeAsync(120_000);
      expect(queue.length).toBe(0); // the dropped retry does not fire later
    });

    it('keeps the earlier of two delayed adds of one key', async () => {
      const queue = new WorkQueue();
      queue.addAfter('ns/a', 5_000);
      queue.addAfter('ns/a', 1_000);
      queue.addAfter('ns/a', 3_000);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(queue.length).toBe(1);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(queue.length).toBe(1);
    });
  });
});

describe('RateLimiter', () => {
  it('holds back retries beyond the global burst, whatever the key', () => {
    let now = 0;
    const limiter = new RateLimiter({ baseDelayMs: 1, maxDelayMs: 1, perSecond: 10, burst: 2 }, () => now);
    expect(limiter.when('a')).toBe(1);
    expect(limiter.when('b')).toBe(1);
    expect(limiter.when('c')).toBe(100); // the bucket is empty: one token every 100 ms
    now = 1_000;
    expect(limiter.when('d')).toBe(1);
  });
});
