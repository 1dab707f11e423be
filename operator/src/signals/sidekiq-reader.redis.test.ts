import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { QueueReading } from './queue-reading.ts';
import { sidekiqKeys } from './sidekiq-reader.ts';
import { SignalPoller } from './signal-poller.ts';
import type { PoolReadResult } from './stale-reading.ts';
import { SIDEKIQ_VERSIONS, redisEpochSeconds, sidekiqWriter } from './testing/sidekiq-layout.ts';
import { queueSpec } from './testing/test-pools.ts';

// Sidekiq's keys (schedule, retry, processes) are fixed names, so these tests own a private
// redis-server instead of sharing one.
describe('the sidekiq reader, on data laid out as Sidekiq 6.4, 7.3, 8.0 and 8.1 write it', () => {
  let server: RedisServer;
  let redis: Redis;
  const poller = new SignalPoller();

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
  });
  afterEach(async () => {
    await redis.flushall();
  });
  afterAll(async () => {
    await poller.close();
    redis.disconnect();
    await server.stop();
  });

  async function read(names: string[], keyPrefix?: string): Promise<PoolReadResult> {
    poller.register('pool', {
      queue: queueSpec(server.url, { format: 'sidekiq', names, ...(keyPrefix === undefined ? {} : { keyPrefix }) }),
    });
    const result = (await poller.readAll()).get('pool');
    await poller.unregister('pool');
    if (!result) throw new Error('no result');
    return result;
  }

  async function reading(names: string[], keyPrefix?: string): Promise<QueueReading> {
    const result = await read(names, keyPrefix);
    if (!result.ok) throw result.error;
    return result.reading;
  }

  /** Sidekiq::Queue#latency, as api.rb computes it: now - enqueued_at of LINDEX queue:<q> -1. */
  async function sidekiqLatency(queue: string, ns?: string): Promise<number> {
    const job = await redis.lindex(sidekiqKeys(ns).queue(queue), -1);
    if (job === null) return 0;
    const enqueuedAt = (JSON.parse(job) as { enqueued_at: number }).enqueued_at;
    const now = await redisEpochSeconds(redis);
    return Number.isInteger(enqueuedAt) && enqueuedAt > 1e11 ? now - enqueuedAt / 1000 : now - enqueuedAt;
  }

  for (const version of SIDEKIQ_VERSIONS) {
    it(`Sidekiq ${version}: depth over the pool's queues and the latency Queue#latency reports`, async () => {
      const sidekiq = sidekiqWriter(redis, version);
      await sidekiq.push('mailers', 45.5);
      await sidekiq.push('mailers', 10);
      await sidekiq.push('default', 20);
      await sidekiq.push('other', 600); // another pool's queue: not ours
      const r = await reading(['mailers', 'default']);
      const expected = Math.max(await sidekiqLatency('mailers'), await sidekiqLatency('default'));
      expect(r.depth).toBe(3);
      expect(r.oldestJobAgeSeconds).toBeGreaterThan(expected - 0.5);
      expect(r.oldestJobAgeSeconds).toBeLessThanOrEqual(expected);
      expect(r.oldestJobAgeSeconds).toBeGreaterThanOrEqual(45.5);
      // Each queue as Sidekiq::Queue.new(name).size and #latency report it.
      expect(r.queues?.map((q) => [q.name, q.depth])).toEqual([
        ['mailers', 2],
        ['default', 1],
      ]);
      expect(r.queues?.[0]?.oldestJobAgeSeconds).toBe(r.oldestJobAgeSeconds);
      const defaultLatency = await sidekiqLatency('default');
      expect(r.queues?.[1]?.oldestJobAgeSeconds).toBeGreaterThan(defaultLatency - 0.5);
      expect(r.queues?.[1]?.oldestJobAgeSeconds).toBeLessThanOrEqual(defaultLatency);
    });
  }

  it('tells float-second and integer-millisecond enqueued_at apart per job (a 7 → 8 upgrade in flight)', async () => {
    await sidekiqWriter(redis, '7.3').push('mailers', 30);
    await sidekiqWriter(redis, '8.0').push('critical', 90);
    const r = await reading(['mailers', 'critical']);
    expect(r.oldestJobAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(r.oldestJobAgeSeconds).toBeLessThan(91);
  });

  it("counts the pool's schedule and retry jobs coming due, by horizon, with the earliest of each", async () => {
    // Sidekiq::Scheduled::Poller (scheduled.rb) moves a job once its score, the run time in epoch
    // seconds, has passed; perform_in(40) and a retry 12 s away are not due yet.
    const sidekiq = sidekiqWriter(redis, '7.3');
    await sidekiq.schedule('mailers', 40);
    await sidekiq.schedule('mailers', 41);
    await sidekiq.retry('mailers', 12);
    await sidekiq.schedule('other', 8); // another pool's queue
    await sidekiq.schedule('mailers', 3600); // beyond the last horizon
    await sidekiq.schedule('mailers', -5); // due: counted as dueScheduled, not upcoming
    const r = await reading(['mailers']);
    const within = (horizon: number) => r.upcoming?.dueWithin[r.upcoming.horizonsSeconds.indexOf(horizon)];
    const earliest = (horizon: number) =>
      r.upcoming?.earliestDueInSeconds?.[r.upcoming.horizonsSeconds.indexOf(horizon)] ?? Number.NaN;
    expect(r.dueScheduled).toBe(1);
    expect(within(10)).toBe(0);
    expect(within(15)).toBe(1);
    expect(within(45)).toBe(3);
    expect(within(300)).toBe(3);
    expect(earliest(15)).toBeGreaterThan(11);
    expect(earliest(15)).toBeLessThanOrEqual(12);
    expect(earliest(45)).toBeGreaterThan(39);
    expect(earliest(45)).toBeLessThanOrEqual(40);
    expect(r.notes ?? []).toEqual([]);
  });

  it("counts a campaign larger than the scan limit from the set itself, at the share of the pool's jobs", async () => {
    // 1,500 of the pool's jobs and 500 of another pool's, all due in 40 s: more than DUE_SCAN_LIMIT.
    const now = await redisEpochSeconds(redis);
    const job = (queue: string, i: number) => JSON.stringify({ class: 'Mail', args: [i], queue, jid: `${queue}-${i}` });
    const members = Array.from({ length: 2000 }, (_, i) => [
      now + 40 + i / 10_000,
      job(i % 4 === 3 ? 'other' : 'mailers', i),
    ]);
    await redis.zadd('schedule', ...members.flat());
    const r = await reading(['mailers']);
    const at = (horizon: number) => r.upcoming?.dueWithin[r.upcoming.horizonsSeconds.indexOf(horizon)] ?? 0;
    expect(at(30)).toBe(0);
    expect(at(45)).toBeGreaterThan(1450);
    expect(at(45)).toBeLessThan(1550);
    expect(r.upcoming?.truncated).toBe(true);
    expect(r.notes?.join(' ')).toContain('estimated');
  });

  it("counts due schedule and retry jobs of the pool's queues only, as work waiting", async () => {
    const sidekiq = sidekiqWriter(redis, '7.3');
    await sidekiq.schedule('mailers', -30); // due: nobody moved it, as with zero replicas
    await sidekiq.schedule('mailers', 3600); // not due yet
    await sidekiq.schedule('other', -30); // due, but another pool's
    await sidekiq.retry('mailers', -5);
    await sidekiq.retry('mailers', 600);
    const r = await reading(['mailers']);
    expect(r).toMatchObject({ depth: 0, oldestJobAgeSeconds: 0, dueScheduled: 2 });
  });

  for (const version of SIDEKIQ_VERSIONS) {
    it(`Sidekiq ${version}: busy, concurrency and quiet per process, leaving out expired, stale and unrelated ones`, async () => {
      const sidekiq = sidekiqWriter(redis, version);
      await sidekiq.heartbeat({
        hostname: 'mailers-7d9f-abcde',
        queues: ['mailers', 'default'],
        concurrency: 10,
        busy: 3,
      });
      await sidekiq.heartbeat({
        hostname: 'mailers-7d9f-fghij',
        queues: ['mailers'],
        concurrency: 5,
        busy: 5,
        quiet: true,
      });
      await sidekiq.heartbeat({ hostname: 'reports-1', queues: ['reports'], concurrency: 25, busy: 25 });
      await sidekiq.heartbeat({
        hostname: 'mailers-stuck',
        queues: ['mailers'],
        concurrency: 10,
        busy: 10,
        beatAgeSeconds: 61,
      });
      await sidekiq.deadProcess('mailers-gone');
      await sidekiq.setProcessed(123_456);
      const r = await reading(['mailers']);
      expect(r).toMatchObject({ busy: 8, concurrency: 15, completedTotal: 123_456 });
      expect(r.workers).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ pod: 'mailers-7d9f-abcde', busy: 3, concurrency: 10, draining: false }),
          expect.objectContaining({ pod: 'mailers-7d9f-fghij', busy: 5, concurrency: 5, draining: true }),
        ]),
      );
      expect(r.workers).toHaveLength(2);
      expect(r.unreadableHeartbeats).toBeUndefined();
    });
  }

  it('Sidekiq 8.1.2+: reads concurrency from the process hash, where info no longer has it (the case inspect read as "workers none alive")', async () => {
    const sidekiq = sidekiqWriter(redis, '8.1');
    const identity = await sidekiq.heartbeat({ hostname: 'web-0', queues: ['default'], concurrency: 5, busy: 2 });
    await sidekiq.heartbeat({ hostname: 'web-1', queues: ['default'], concurrency: 5, busy: 1 });
    // What launcher.rb v8.1.7 wrote: no concurrency in info, one in the hash beside busy.
    const info = JSON.parse((await redis.hget(identity, 'info')) ?? '{}') as Record<string, unknown>;
    expect(info).not.toHaveProperty('concurrency');
    expect(await redis.hget(identity, 'concurrency')).toBe('5');
    const r = await reading(['default']);
    expect(r).toMatchObject({ busy: 3, concurrency: 10 });
    expect(r.workers?.map((w) => w.pod).sort()).toEqual(['web-0', 'web-1']);
    expect(r.unreadableHeartbeats).toBeUndefined();
  });

  for (const version of ['7.3', '8.0', '8.1'] as const) {
    it(`Sidekiq ${version}: a process of several capsules counts once, with the concurrency of all its capsules`, async () => {
      const identity = await sidekiqWriter(redis, version).heartbeat({
        hostname: 'jobs-0',
        capsules: { default: { concurrency: 5, queues: ['default'] }, single: { concurrency: 1, queues: ['reports'] } },
        busy: 4,
      });
      const r = await reading(['reports']);
      // busy is as of the beat written beside it (launcher.rb v7.3.9 l. 171-173, v8.1.7 l. 178-181).
      const beatAtMs = Number(await redis.hget(identity, 'beat')) * 1000;
      expect(r.workers).toEqual([
        { pod: 'jobs-0', busy: 4, concurrency: 6, draining: false, quietKey: `${identity}-signals`, beatAtMs },
      ]);
    });
  }

  for (const version of SIDEKIQ_VERSIONS) {
    it(`Sidekiq ${version}: stat:processed is the pool's counter while every live process serves only its queues, and says why not once one does not`, async () => {
      const sidekiq = sidekiqWriter(redis, version);
      await sidekiq.heartbeat({ hostname: 'web-0', queues: ['default', 'mailers'], concurrency: 5, busy: 1 });
      // Each process adds its finished jobs at its heartbeat (launcher.rb v6.4.1 l. 128-143,
      // v7.3.9 l. 117-128, v8.1.7 l. 118-129), every 5 s in 6.x (l. 72), 10 s from 7.0 (v7.3.9
      // l. 86, v8.1.7 l. 87); 7.0 and later name their version in info (to_data), 6.x does not.
      await redis.incrby('stat:processed', 250);
      const own = await reading(['default', 'mailers']);
      expect(own.completedTotal).toBe(250);
      expect(own.completedGranularitySeconds).toBe(version === '6.4' ? 5 : 10);
      expect(own.completedSharedWith).toBeUndefined();
      // A process that also serves a queue the pool does not: its jobs land in the same counter.
      const identity = await sidekiq.heartbeat({
        hostname: 'batch-0',
        queues: ['default', 'reports'],
        concurrency: 5,
        busy: 0,
      });
      const shared = await reading(['default', 'mailers']);
      expect(shared.completedTotal).toBe(250);
      expect(shared.completedSharedWith).toBe(`${identity} serves reports`);
      expect(shared.workers?.map((w) => w.pod).sort()).toEqual(['batch-0', 'web-0']);
    });
  }

  it("reads stat:processed as another pool's too when a process of that pool alone is live on the Redis", async () => {
    const sidekiq = sidekiqWriter(redis, '8.1');
    await sidekiq.heartbeat({ hostname: 'web-0', queues: ['default'], concurrency: 5, busy: 1 });
    const other = await sidekiq.heartbeat({ hostname: 'other-0', queues: ['other'], concurrency: 5, busy: 1 });
    const r = await reading(['default']);
    expect(r.completedSharedWith).toBe(`${other} serves other`);
    expect(r.workers?.map((w) => w.pod)).toEqual(['web-0']);
  });

  it('counts and names the live heartbeats it cannot use, instead of reading them as no workers', async () => {
    const sidekiq = sidekiqWriter(redis, '8.1');
    await sidekiq.heartbeat({ hostname: 'web-0', queues: ['default'], concurrency: 5, busy: 1 });
    // A writer the reader does not know: a process hash with neither concurrency nor capsules,
    // one whose info is not JSON at all, and one whose beat is not a time.
    const now = await redisEpochSeconds(redis);
    const odd = [
      ['web-9:1:aaaaaa', JSON.stringify({ hostname: 'web-9', queues: ['default'] }), now],
      ['web-8:1:bbbbbb', 'not json', now],
      ['web-7:1:dddddd', JSON.stringify({ hostname: 'web-7', queues: ['default'], concurrency: 5 }), 'soon'],
      ['other-1:1:cccccc', JSON.stringify({ hostname: 'other-1', queues: ['other'] }), now], // another pool's
    ] as const;
    for (const [identity, info, beat] of odd)
      await redis
        .multi()
        .sadd('processes', identity)
        .hset(identity, 'info', info, 'busy', 3, 'beat', beat, 'quiet', 'false')
        .exec();
    const r = await reading(['default']);
    expect(r).toMatchObject({ busy: 1, concurrency: 5 });
    expect(r.unreadableHeartbeats?.count).toBe(3);
    expect(r.unreadableHeartbeats?.first).toMatch(
      /^(web-9:1:aaaaaa: no concurrency in the process hash, its info or its capsules|web-8:1:bbbbbb: info is not a JSON object|web-7:1:dddddd: beat is "soon", not a time)$/,
    );
  });

  it('Sidekiq 6 with redis-namespace: reads every key under "<ns>:" and nothing outside it', async () => {
    const sidekiq = sidekiqWriter(redis, '6.4', 'billing');
    await sidekiq.push('mailers', 12);
    await sidekiq.schedule('mailers', -1);
    const identity = await sidekiq.heartbeat({
      hostname: 'billing-worker-0',
      queues: ['mailers'],
      concurrency: 25,
      busy: 1,
    });
    await sidekiq.setProcessed(7);
    const namespaced = await reading(['mailers'], 'billing');
    expect(namespaced).toMatchObject({ depth: 1, dueScheduled: 1, busy: 1, concurrency: 25, completedTotal: 7 });
    expect(namespaced.oldestJobAgeSeconds).toBeGreaterThanOrEqual(12);
    // quiet! under redis-namespace pushes to the namespaced signals list, which the process pops.
    expect(namespaced.workers?.map((w) => w.quietKey)).toEqual([`billing:${identity}-signals`]);
    const bare = await reading(['mailers']);
    expect(bare).toMatchObject({ depth: 0, dueScheduled: 0, busy: 0, completedTotal: 0 });
  });

  /** Bytes Redis has sent to every client since it started (INFO stats). */
  async function bytesSent(): Promise<number> {
    const stats = await redis.info('stats');
    return Number(/total_net_output_bytes:(\d+)/.exec(stats)?.[1] ?? Number.NaN);
  }

  it("reads a 20 MB job, and a Redis full of other pools' processes, with a reply of a few kilobytes", async () => {
    // A job carrying 20 MB of arguments at the head of the queue (Sidekiq::Client#push writes any
    // size), and 200 processes of other pools, each with a large info: the operator needs only
    // enqueued_at and the pool's own processes, and a poll must cost what those cost.
    const now = await redisEpochSeconds(redis);
    const big = JSON.stringify({
      class: 'ImportWorker',
      args: ['x'.repeat(20 * 1024 * 1024)],
      queue: 'imports',
      jid: 'big',
      enqueued_at: now - 30,
    });
    await redis.lpush('queue:imports', big);
    await sidekiqWriter(redis, '7.3').push('imports', 5);
    const sidekiq = sidekiqWriter(redis, '8.1');
    const ours = await sidekiq.heartbeat({ hostname: 'imports-0', queues: ['imports'], concurrency: 5, busy: 2 });
    for (let i = 0; i < 200; i++) {
      const identity = await sidekiq.heartbeat({
        hostname: `other-${i}`,
        queues: [`other-${i}`],
        concurrency: 5,
        busy: 1,
      });
      const info = JSON.parse((await redis.hget(identity, 'info')) ?? '{}') as Record<string, unknown>;
      await redis.hset(identity, 'info', JSON.stringify({ ...info, labels: ['y'.repeat(10_000)] }));
    }
    await read(['imports']); // loads the scripts: what a steady poll costs is measured next
    const before = await bytesSent();
    const r = await reading(['imports']);
    const sent = (await bytesSent()) - before;
    const after = await redisEpochSeconds(redis);
    expect(r.depth).toBe(2);
    // Enqueued 30 s before `now`; writing 200 heartbeats takes a while on a loaded machine.
    expect(r.oldestJobAgeSeconds).toBeGreaterThanOrEqual(30);
    expect(r.oldestJobAgeSeconds).toBeLessThanOrEqual(after - now + 30);
    expect(r.workers).toEqual([
      {
        pod: 'imports-0',
        busy: 2,
        concurrency: 5,
        draining: false,
        quietKey: `${ours}-signals`,
        beatAtMs: expect.any(Number) as number,
      },
    ]);
    // The poll and the INFO reply that measures it: a few kilobytes, against 20 MB and 2 MB of info.
    expect(sent).toBeLessThan(16 * 1024);
  }, 30_000); // Writing 20 MB and 200 heartbeats takes seconds on a loaded machine.

  /** Readings of one pool kept registered, so that the reader's memory carries from read to read. */
  async function readingsOf(names: string[], steps: readonly (() => Promise<unknown>)[]): Promise<QueueReading[]> {
    poller.register('pool', { queue: queueSpec(server.url, { format: 'sidekiq', names }) });
    try {
      const readings: QueueReading[] = [];
      for (const step of [undefined, ...steps]) {
        await step?.();
        const result = (await poller.readAll()).get('pool');
        if (!result?.ok) throw result?.error ?? new Error('no result');
        readings.push(result.reading);
      }
      return readings;
    } finally {
      await poller.unregister('pool');
    }
  }

  for (const version of ['7.3', '8.0', '8.1'] as const) {
    it(`Sidekiq ${version}: sums the run time its processes recorded of the jobs that did not fail, from the second read on`, async () => {
      const sidekiq = sidekiqWriter(redis, version);
      await sidekiq.heartbeat({ hostname: 'web-0', queues: ['default'], concurrency: 10, busy: 0 });
      const [first, second, third] = await readingsOf(
        ['default'],
        [
          // Flushed before the reader knew Redis's clock: the baseline, not counted.
          () => sidekiq.flushMetrics([{ class: 'HardJob', ms: 1_500 }]),
          async () => {
            await sidekiq.flushMetrics([
              { class: 'HardJob', ms: 1_200 },
              { class: 'MailJob', ms: 300 },
              { class: 'HardJob', failed: true },
            ]);
            await sidekiq.flushMetrics([{ class: 'MailJob', ms: 500 }]);
          },
        ],
      );
      expect(first?.recordedRunTime).toBeUndefined();
      expect(third?.recordedRunTime?.jobs).toBe((second?.recordedRunTime?.jobs ?? NaN) + 3);
      expect(third?.recordedRunTime?.seconds).toBeCloseTo((second?.recordedRunTime?.seconds ?? NaN) + 2, 6);
    });
  }

  it('reports no run time while a Sidekiq 6 process, which records none, is live beside 7+ ones', async () => {
    await sidekiqWriter(redis, '8.1').heartbeat({ hostname: 'web-0', queues: ['default'], concurrency: 10, busy: 0 });
    await sidekiqWriter(redis, '6.4').heartbeat({ hostname: 'old-0', queues: ['default'], concurrency: 10, busy: 0 });
    const readings = await readingsOf(['default'], [() => Promise.resolve(), () => Promise.resolve()]);
    expect(readings.map((r) => r.recordedRunTime)).toEqual([undefined, undefined, undefined]);
    expect(readings.at(-1)?.workers).toHaveLength(2);
  });

  it("reads no execution metrics while another pool's process is live on the Redis, and sums them again once it stopped", async () => {
    const sidekiq = sidekiqWriter(redis, '8.1');
    await sidekiq.heartbeat({ hostname: 'web-0', queues: ['default'], concurrency: 10, busy: 0 });
    const other = await sidekiq.heartbeat({ hostname: 'reports-0', queues: ['reports'], concurrency: 5, busy: 0 });
    // HGETALL is the metrics script's alone: the other scripts read hashes field by field.
    const hashesRead = async () =>
      Number(/cmdstat_hgetall:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
    await redis.config('RESETSTAT');
    let readWhileShared = NaN;
    const readings = await readingsOf(
      ['default'],
      [
        () => sidekiq.flushMetrics([{ class: 'HardJob', ms: 1_000 }]),
        () => sidekiq.flushMetrics([{ class: 'HardJob', ms: 1_000 }]),
        async () => {
          readWhileShared = await hashesRead();
          // It stops as Sidekiq does (launcher.rb clear_heartbeat: SREM processes, UNLINK identity).
          await redis.srem('processes', other);
          await redis.del(other);
        },
        () => sidekiq.flushMetrics([{ class: 'MailJob', ms: 500 }]),
        () => sidekiq.flushMetrics([{ class: 'MailJob', ms: 700 }]),
      ],
    );
    expect(readWhileShared).toBe(0);
    expect(readings.slice(0, 4).map((r) => r.recordedRunTime)).toEqual([undefined, undefined, undefined, undefined]);
    expect(readings[3]?.completedSharedWith).toBeUndefined();
    const [resumed, counted] = readings.slice(4);
    expect(counted?.recordedRunTime?.jobs).toBe((resumed?.recordedRunTime?.jobs ?? NaN) + 1);
    expect(counted?.recordedRunTime?.seconds).toBeCloseTo((resumed?.recordedRunTime?.seconds ?? NaN) + 0.7, 6);
    expect(await hashesRead()).toBeGreaterThan(0);
  });

  it('bounds a malformed 20 MB job to an error naming the key and its size, with none of its text', async () => {
    await redis.lpush('queue:imports', `{"args":["${'z'.repeat(20 * 1024 * 1024)}"`);
    const result = await read(['imports']);
    expect(result.ok === false && result.error.kind).toBe('malformed-job');
    expect(result.ok === false && result.error.message).toContain('queue:imports');
    expect(result.ok === false && result.error.message).toMatch(/\d+ bytes/);
    expect(result.ok === false && result.error.message).not.toContain('zzz');
  }, 30_000);

  it('fails with malformed-job naming the key when the oldest job, or a due scheduled job, is not JSON', async () => {
    await redis.lpush('queue:mailers', '{"class":"HardWorker",');
    const head = await read(['mailers']);
    expect(head.ok === false && head.error.kind).toBe('malformed-job');
    expect(head.ok === false && head.error.message).toContain('queue:mailers');
    expect(head.ok === false && head.error.message).not.toContain('HardWorker'); // no job text, ever
    await redis.del('queue:mailers');
    await redis.zadd('schedule', 1, 'not json');
    const due = await read(['mailers']);
    expect(due.ok === false && due.error.kind).toBe('malformed-job');
    expect(due.ok === false && due.error.message).toContain('schedule');
    expect(due.ok === false && due.error.message).not.toContain('not json');
  });
});
