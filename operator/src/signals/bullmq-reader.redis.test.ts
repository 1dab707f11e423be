import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { bullmqKeys } from './bullmq-reader.ts';
import type { QueueReading } from './queue-reading.ts';
import { SignalPoller } from './signal-poller.ts';
import type { PoolReadResult } from './stale-reading.ts';
import { queueSpec } from './testing/test-pools.ts';

describe('the bullmq reader, against queues written by the real bullmq package', () => {
  const url = inject('redisUrl');
  const { hostname, port } = new URL(url);
  const connection = { host: hostname, port: Number(port), maxRetriesPerRequest: null };
  // The key prefix isolates this file on the shared Redis, as a BullMQ app's own prefix would.
  const prefix = uniqueKeyPrefix('bull').slice(0, -1);
  const redis = new Redis(url);
  const poller = new SignalPoller();
  const closers: (() => Promise<void>)[] = [];

  const queue = (name: string) => {
    const q = new Queue(name, { connection, prefix });
    closers.push(() => q.close());
    return q;
  };

  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  afterAll(async () => {
    await poller.close();
    redis.disconnect();
  });

  async function read(names: string[]): Promise<PoolReadResult> {
    poller.register('pool', { queue: queueSpec(url, { format: 'bullmq', names, keyPrefix: prefix }) });
    const result = (await poller.readAll()).get('pool');
    await poller.unregister('pool');
    if (!result) throw new Error('no result');
    return result;
  }

  async function reading(names: string[]): Promise<QueueReading> {
    const result = await read(names);
    if (!result.ok) throw result.error;
    return result.reading;
  }

  it('agrees with getJobCounts on waiting, prioritized, delayed and active jobs, and ages the oldest', async () => {
    const q = queue('emails');
    const first = await q.add('send', { n: 1 });
    await q.add('send', { n: 2 });
    await q.add('send', { n: 3 });
    await q.add('send', { n: 4 }, { priority: 5 });
    await q.add('send', { n: 5 }, { priority: 1 });
    // A worker takes the oldest plain job: it becomes active.
    const worker = new Worker('emails', null, { connection, prefix, autorun: false });
    closers.push(() => worker.close());
    const taken = await worker.getNextJob('token-1');
    expect(taken?.id).toBe(first.id);
    // One delayed job already due (nobody promoted it: no worker is polling) and one in the future.
    await q.add('send', { n: 6 }, { delay: 1 });
    await q.add('send', { n: 7 }, { delay: 60_000 });
    await sleep(20);

    const counts = await q.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
    const dueByBullmq = await q.getDelayedCount(Date.now());
    const r = await reading(['emails']);
    expect(r.depth).toBe((counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0));
    expect(r).toMatchObject({ depth: 4, busy: counts['active'], dueScheduled: dueByBullmq });
    expect(r.dueScheduled).toBe(1);
    expect(counts['delayed']).toBe(2);
    // The oldest waiting job is job 2 (job 1 is active): its age is measured from its timestamp.
    const second = await q.getJob('2');
    const expectedAge = (r.observedAtMs - (second?.timestamp ?? 0)) / 1000;
    expect(r.oldestJobAgeSeconds).toBeCloseTo(expectedAge, 2);
    expect(r.paused).toBeUndefined();
  });

  it("counts delayed jobs coming due, over the pool's queues, with the earliest of each horizon", async () => {
    const emails = queue('emails');
    const reports = queue('reports');
    await emails.add('send', {}, { delay: 12_000 });
    await emails.add('send', {}, { delay: 40_000 });
    await reports.add('r', {}, { delay: 41_000 });
    await reports.add('r', {}, { delay: 3_600_000 }); // beyond the last horizon
    const r = await reading(['emails', 'reports']);
    const at = (horizon: number) => r.upcoming?.horizonsSeconds.indexOf(horizon) ?? -1;
    expect(r.upcoming?.dueWithin[at(10)]).toBe(0);
    expect(r.upcoming?.dueWithin[at(15)]).toBe(1);
    expect(r.upcoming?.dueWithin[at(45)]).toBe(3);
    expect(r.upcoming?.dueWithin[at(300)]).toBe(3);
    // BullMQ scores a delayed job by when it is due: its timestamp plus its delay.
    expect(r.upcoming?.earliestDueInSeconds?.[at(15)]).toBeGreaterThan(11);
    expect(r.upcoming?.earliestDueInSeconds?.[at(15)]).toBeLessThanOrEqual(12);
    expect(r.upcoming?.earliestDueInSeconds?.[at(45)]).toBeGreaterThan(39);
    expect(r.upcoming?.earliestDueInSeconds?.[at(45)]).toBeLessThanOrEqual(40);
    expect(r.dueScheduled).toBe(0);
  });

  it('v6 pause: jobs stay in wait and count as waiting, and the reading says the queue is paused', async () => {
    const q = queue('reports');
    await q.add('r', {});
    await q.add('r', {});
    await q.pause();
    // v6 has no paused list any more: getJobCounts reports paused jobs as waiting.
    const counts = await q.getJobCounts('waiting');
    const r = await reading(['reports']);
    expect(r.depth).toBe(counts['waiting']);
    expect(r).toMatchObject({ depth: 2, paused: true });
  });

  it("reports each queue on its own, as that queue's getJobCounts does, and which one is paused", async () => {
    const critical = queue('critical');
    const bulk = queue('bulk');
    const oldestCritical = await critical.add('c', {});
    await critical.add('c', {});
    await bulk.add('b', {});
    await bulk.pause();
    const r = await reading(['critical', 'bulk']);
    const counts = await critical.getJobCounts('waiting');
    expect(r.queues?.map((q) => [q.name, q.depth, q.paused])).toEqual([
      ['critical', counts['waiting'], undefined],
      ['bulk', 1, true],
    ]);
    expect(r.queues?.[0]?.oldestJobAgeSeconds).toBeCloseTo((r.observedAtMs - oldestCritical.timestamp) / 1000, 2);
    // The pool is not paused while one of its queues still hands out jobs.
    expect(r.paused).toBeUndefined();
  });

  it("counts the jobs that finished since the last poll from BullMQ's events stream, failed ones included", async () => {
    // moveToFinished-14.lua (BullMQ 6.7) XADDs "event" "completed" or "failed" to <prefix>:<queue>:events
    // when a job leaves active for good; workers need no `metrics` option for it.
    const q = queue('done');
    poller.register('pool', { queue: queueSpec(url, { format: 'bullmq', names: ['done'], keyPrefix: prefix }) });
    const poll = async (): Promise<QueueReading> => {
      const result = (await poller.readAll()).get('pool');
      if (!result?.ok) throw result?.error ?? new Error('no result');
      return result.reading;
    };
    try {
      // The first poll starts from the stream's end: it has counted nothing yet, so it has no counter.
      await q.add('before', {});
      expect((await poll()).completedTotal).toBeUndefined();
      await q.addBulk([
        { name: 'ok', data: {} },
        { name: 'ok', data: {} },
        { name: 'ok', data: {} },
        { name: 'boom', data: {}, opts: { attempts: 1 } },
      ]);
      const worker = new Worker(
        'done',
        (job) => (job.name === 'boom' ? Promise.reject(new Error('boom')) : Promise.resolve('ok')),
        {
          connection,
          prefix,
        },
      );
      closers.push(() => worker.close());
      await expect
        .poll(async () => (await q.getCompletedCount()) + (await q.getFailedCount()), { timeout: 10_000 })
        .toBe(5);
      await worker.close();
      // Five left active for good since the first poll: the job added before it, three more, one failure.
      expect(await poll()).toMatchObject({ depth: 0, busy: 0, completedTotal: 5 });
      expect((await poll()).completedTotal).toBe(5);
      // BullMQ trims its events stream (opts.maxLenEvents): events lost past where the last poll
      // stopped make that poll's count partial, so it carries no counter; the next one counts on.
      await redis.xtrim(bullmqKeys(prefix, 'done').events, 'MAXLEN', 0);
      await redis.xadd(bullmqKeys(prefix, 'done').events, '*', 'event', 'completed', 'jobId', 'x', 'prev', 'active');
      expect((await poll()).completedTotal).toBeUndefined();
      await redis.xadd(bullmqKeys(prefix, 'done').events, '*', 'event', 'completed', 'jobId', 'y', 'prev', 'active');
      expect((await poll()).completedTotal).toBe(7);
    } finally {
      await poller.unregister('pool');
    }
  });

  it('a retried job is aged from its last attempt, not from when it was first created', async () => {
    const q = queue('flaky');
    const job = await q.add('x', {}, { attempts: 3 });
    // Make the job look created 10 minutes ago and last attempted 3 s ago, as a retry would.
    const now = Date.now();
    await redis.hset(`${prefix}:flaky:${job.id}`, 'timestamp', now - 600_000, 'processedOn', now - 3000);
    const r = await reading(['flaky']);
    expect(r.oldestJobAgeSeconds).toBeGreaterThanOrEqual(2.9);
    expect(r.oldestJobAgeSeconds).toBeLessThan(10);
  });

  it('the v5 layout: paused jobs sit in the paused list and still count as waiting; a legacy marker is skipped', async () => {
    const k = bullmqKeys(prefix, 'legacy');
    const now = Date.now();
    for (const [id, age] of [
      ['1', 30_000],
      ['2', 20_000],
      ['3', 5_000],
    ] as const) {
      await redis.hset(
        `${k.jobPrefix}${id}`,
        'name',
        'job',
        'data',
        '{}',
        'opts',
        '{"attempts":1}',
        'timestamp',
        now - age,
        'delay',
        0,
        'priority',
        0,
      );
    }
    // Paused in v5: the jobs moved from wait to paused, the marker "0:0" left at wait's tail.
    await redis.lpush(k.paused, '1', '2');
    await redis.hset(k.meta, 'paused', 1);
    await redis.lpush(k.wait, '0:0');
    await redis.lpush(k.wait, '3');
    const r = await reading(['legacy']);
    expect(r).toMatchObject({ depth: 3, paused: true });
    expect(r.oldestJobAgeSeconds).toBeGreaterThanOrEqual(30);
    expect(r.oldestJobAgeSeconds).toBeLessThan(31);
  });

  it('fails with wrong-type naming the key, or malformed-job naming the queue, never a zero reading', async () => {
    const k = bullmqKeys(prefix, 'broken');
    await redis.set(k.wait, 'oops');
    const wrong = await read(['broken']);
    expect(wrong.ok === false && wrong.error.kind).toBe('wrong-type');
    expect(wrong.ok === false && wrong.error.message).toContain(k.wait);
    await redis.del(k.wait);
    await redis.lpush(k.wait, 'id-held-in-the-list');
    await redis.hset(`${k.jobPrefix}id-held-in-the-list`, 'timestamp', Date.now(), 'opts', '{not json');
    const malformed = await read(['broken']);
    expect(malformed.ok === false && malformed.error.kind).toBe('malformed-job');
    expect(malformed.ok === false && malformed.error.message).toContain(k.jobPrefix);
    // The id came out of the list: queue data, which status never carries.
    expect(malformed.ok === false && malformed.error.message).not.toContain('id-held-in-the-list');
  });

  it("reads the capacity BullMQ's own setGlobalConcurrency and setGlobalRateLimit give a queue", async () => {
    const limited = queue('limited');
    await limited.add('send', { n: 1 });
    expect((await reading(['limited'])).capacity).toBeUndefined();
    await limited.setGlobalConcurrency(12);
    await limited.setGlobalRateLimit(30, 2000); // 30 jobs per 2 s
    expect(await limited.getGlobalConcurrency()).toBe(12);
    expect((await reading(['limited'])).capacity).toEqual({ maxActiveJobs: 12, maxJobsPerSecond: 15 });
    // A pool of two queues can run what both allow; with one unlimited queue there is no ceiling.
    const other = queue('other');
    await other.setGlobalConcurrency(8);
    expect((await reading(['limited', 'other'])).capacity).toEqual({ maxActiveJobs: 20 });
    await limited.removeGlobalConcurrency();
    await limited.removeGlobalRateLimit();
    expect((await reading(['limited', 'other'])).capacity).toBeUndefined();
  });
});
