import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LOW_TURN_AFTER, RateLimiter, WorkQueue } from './work-queue.ts';

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

  it('hands out normal keys before low-priority ones, so that refreshes do not delay a scale-up', async () => {
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

  describe('between namespaces', () => {
    /** Hands out keys until `key` comes, returning how many came before it. */
    async function keysBefore(queue: WorkQueue, key: string): Promise<string[]> {
      const before: string[] = [];
      for (;;) {
        const next = (await queue.get()) ?? '';
        queue.done(next);
        if (next === key) return before;
        before.push(next);
      }
    }

    it("answers a team's scale-up after one of another team's 300 first applies, not after all of them", async () => {
      const queue = new WorkQueue();
      for (let i = 0; i < 300; i++) queue.add(`hostile/pool-${i}`);
      queue.add('victim/burst');
      expect(await keysBefore(queue, 'victim/burst')).toEqual(['hostile/pool-0']);
      // The hostile team's own pools keep their order, and none was lost or doubled.
      const rest: string[] = [];
      while (queue.length > 0) rest.push((await queue.get()) ?? '');
      expect(rest).toEqual(Array.from({ length: 299 }, (_, i) => `hostile/pool-${i + 1}`));
    });

    it('delays a key by at most one key per other namespace with work queued, however much each has', async () => {
      const queue = new WorkQueue();
      for (let i = 0; i < 100; i++) {
        queue.add(`team-a/pool-${i}`);
        queue.add(`team-b/pool-${i}`);
      }
      expect(await queue.get()).toBe('team-a/pool-0'); // a reconcile is under way when the burst lands
      queue.add('victim/burst');
      expect(await keysBefore(queue, 'victim/burst')).toEqual(['team-b/pool-0', 'team-a/pool-1']);
    });

    it('gives a busy namespace no extra turn for keys added again while they wait or run', async () => {
      const queue = new WorkQueue();
      queue.add('hostile/a');
      queue.add('hostile/b');
      const running = (await queue.get()) ?? ''; // hostile/a
      queue.add('victim/burst');
      queue.add('hostile/b'); // already waiting: stored once, keeps its place
      queue.add('hostile/a'); // running: queued again only at done()
      queue.done(running);
      expect(await queue.get()).toBe('hostile/b');
      expect(await queue.get()).toBe('victim/burst');
      expect(await queue.get()).toBe('hostile/a');
      expect(queue.length).toBe(0);
    });

    it('keeps priorities across namespaces: a refresh anywhere waits for every scale-up, refreshes take turns too', async () => {
      const queue = new WorkQueue();
      for (let i = 0; i < 3; i++) queue.add(`hostile/refresh-${i}`, 'low');
      queue.add('victim/refresh', 'low');
      queue.add('hostile/scale-up');
      queue.add('victim/scale-up');
      const order: string[] = [];
      while (queue.length > 0) order.push((await queue.get()) ?? '');
      expect(order).toEqual([
        'hostile/scale-up',
        'victim/scale-up',
        'hostile/refresh-0',
        'victim/refresh',
        'hostile/refresh-1',
        'hostile/refresh-2',
      ]);
    });

    it("keeps other teams' refreshes moving while one team keeps scale-ups queued without end", async () => {
      const queue = new WorkQueue();
      // A team with hundreds of pools on a bursty queue: each pool handed out is queued again at
      // once by its next decision, so the normal line never empties.
      for (let i = 0; i < 5; i++) queue.add(`hostile/pool-${i}`);
      queue.add('victim/refresh', 'low');
      queue.add('other/refresh', 'low');
      const handedOut: string[] = [];
      while (handedOut.filter((key) => key.endsWith('/refresh')).length < 2 && handedOut.length < 100) {
        const key = (await queue.get()) ?? '';
        handedOut.push(key);
        queue.done(key);
        if (key.startsWith('hostile/')) queue.add(key);
      }
      expect(handedOut.indexOf('victim/refresh')).toBe(LOW_TURN_AFTER);
      expect(handedOut.indexOf('other/refresh')).toBe(2 * LOW_TURN_AFTER + 1);
      // Between the refreshes, scale-ups kept nine tenths of the turns.
      expect(handedOut.filter((key) => key.startsWith('hostile/'))).toHaveLength(2 * LOW_TURN_AFTER);
    });

    it('gives a refresh no turn while fewer scale-ups than LOW_TURN_AFTER wait, and counts afresh once they are gone', async () => {
      const queue = new WorkQueue();
      for (let i = 0; i < LOW_TURN_AFTER - 1; i++) queue.add(`busy/scale-up-${i}`);
      queue.add('quiet/refresh-1', 'low');
      queue.add('quiet/refresh-2', 'low');
      for (let i = 0; i < LOW_TURN_AFTER - 1; i++) expect(await queue.get()).toMatch(/^busy\/scale-up-/);
      expect(await queue.get()).toBe('quiet/refresh-1');
      // The normal line emptied: the streak starts over, so the next scale-up goes first.
      queue.add('busy/scale-up-late');
      expect(await queue.get()).toBe('busy/scale-up-late');
      expect(await queue.get()).toBe('quiet/refresh-2');
    });

    it("moves a refresh promoted to normal into its namespace's normal line, leaving no empty turn behind", async () => {
      const queue = new WorkQueue();
      queue.add('quiet/refresh', 'low');
      queue.add('hostile/refresh', 'low');
      queue.add('quiet/refresh'); // promoted: quiet has no low key left
      expect(queue.length).toBe(2);
      expect(await queue.get()).toBe('quiet/refresh');
      expect(await queue.get()).toBe('hostile/refresh');
      queue.add('quiet/next', 'low');
      expect(await queue.get()).toBe('quiet/next');
    });
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
