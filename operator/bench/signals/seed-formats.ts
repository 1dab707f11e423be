import type { Redis } from 'ioredis';
import {
  addJobs,
  ackAndReserve,
  publishHeartbeat,
  encodeHeartbeat,
  queueKeys,
} from '@workerpool/worker-runtime/protocol';
import type { QueueSpec } from '../../src/api/workerpool-schema.ts';
import { bullmqKeys } from '../../src/signals/bullmq-reader.ts';
import { sidekiqKeys } from '../../src/signals/sidekiq-reader.ts';
import { JOBS_PER_QUEUE, forEachPoolBatch, poolQueues } from './bench-shape.ts';

// Realistic data for every format: each of the 10,000 queues holds a few waiting jobs, some
// in flight, some scheduled, and each pool has live workers, so the reads do their full work.

export interface BenchFormat {
  readonly name: QueueSpec['format'];
  seed(redis: Redis, nowMs: number): Promise<void>;
  spec(pool: number, url: string): QueueSpec;
}

const jobJson = (queue: string, epochSeconds: number) =>
  JSON.stringify({ class: 'BenchJob', args: [1], queue, jid: `${queue}-${epochSeconds}`, enqueued_at: epochSeconds });

const sidekiq: BenchFormat = {
  name: 'sidekiq',
  async seed(redis, nowMs) {
    const now = nowMs / 1000;
    await forEachPoolBatch(async (pool) => {
      const keys = sidekiqKeys(`p${pool}`);
      const m = redis.multi();
      for (const q of poolQueues(pool))
        for (let j = 0; j < JOBS_PER_QUEUE; j += 1) m.lpush(keys.queue(q), jobJson(q, now - 30 + j));
      const first = poolQueues(pool)[0] ?? '';
      m.zadd(keys.schedule, now - 10, jobJson(first, now), now + 600, jobJson(first, now + 1));
      m.zadd(keys.retry, now - 5, jobJson(first, now + 2));
      for (const host of ['a', 'b']) {
        const identity = `p${pool}-${host}:1:abc`;
        m.sadd(keys.processes, identity).hset(
          `${keys.ns}${identity}`,
          'info',
          JSON.stringify({ hostname: identity, concurrency: 10, queues: poolQueues(pool) }),
          'busy',
          3,
          'beat',
          now,
          'quiet',
          'false',
        );
      }
      m.set(keys.processed, 1000);
      await m.exec();
    });
  },
  spec: (pool, url) => ({ format: 'sidekiq', names: poolQueues(pool), keyPrefix: `p${pool}`, redis: { url } }),
};

const bullmq: BenchFormat = {
  name: 'bullmq',
  async seed(redis, nowMs) {
    await forEachPoolBatch(async (pool) => {
      const m = redis.multi();
      for (const q of poolQueues(pool)) {
        const k = bullmqKeys(undefined, q);
        for (let j = 1; j <= JOBS_PER_QUEUE + 3; j += 1)
          m.hset(
            `${k.jobPrefix}${j}`,
            'name',
            'bench',
            'data',
            '{}',
            'opts',
            '{"attempts":1}',
            'timestamp',
            nowMs - 30_000 + j,
            'delay',
            0,
            'priority',
            0,
          );
        for (let j = 1; j <= JOBS_PER_QUEUE; j += 1) m.lpush(k.wait, String(j));
        m.zadd(k.prioritized, 2 * 0x100000000 + 1, String(JOBS_PER_QUEUE + 1));
        m.zadd(k.delayed, (nowMs - 1000) * 0x1000, String(JOBS_PER_QUEUE + 2));
        m.lpush(k.active, String(JOBS_PER_QUEUE + 3));
        // Finished jobs as moveToFinished-14.lua reports them, for the reader's events count.
        for (let j = 1; j <= 3; j += 1)
          m.xadd(k.events, '*', 'event', 'completed', 'jobId', String(j), 'returnvalue', '"ok"', 'prev', 'active');
      }
      await m.exec();
    });
  },
  spec: (pool, url) => ({ format: 'bullmq', names: poolQueues(pool), redis: { url } }),
};

const list: BenchFormat = {
  name: 'list',
  async seed(redis, nowMs) {
    await forEachPoolBatch(async (pool) => {
      const m = redis.multi();
      for (const q of poolQueues(pool))
        m.lpush(
          q,
          ...Array.from({ length: JOBS_PER_QUEUE }, (_, j) => JSON.stringify({ enqueuedAt: nowMs - 30_000 + j })),
        );
      await m.exec();
    });
  },
  spec: (pool, url) => ({
    format: 'list',
    names: poolQueues(pool),
    redis: { url },
    list: { timestampField: 'enqueuedAt', timestampUnit: 'milliseconds', oldestAt: 'right' },
  }),
};

const stream: BenchFormat = {
  name: 'stream',
  async seed(redis, nowMs) {
    await forEachPoolBatch(async (pool) => {
      const m = redis.multi();
      for (const q of poolQueues(pool)) {
        for (let j = 0; j < JOBS_PER_QUEUE; j += 1) m.xadd(q, `${nowMs - 30_000 + j}-0`, 'job', 'x');
        m.xgroup('CREATE', q, 'workers', '0');
        m.xreadgroup('GROUP', 'workers', 'c1', 'COUNT', 2, 'STREAMS', q, '>');
      }
      await m.exec();
    });
  },
  spec: (pool, url) => ({
    format: 'stream',
    names: poolQueues(pool),
    redis: { url },
    stream: { consumerGroup: 'workers' },
  }),
};

const native: BenchFormat = {
  name: 'native',
  async seed(redis, nowMs) {
    await forEachPoolBatch(async (pool) => {
      for (const q of poolQueues(pool)) {
        const keys = queueKeys('wp:', q);
        const jobs = Array.from({ length: JOBS_PER_QUEUE + 2 }, (_, j) => ({
          id: `${q}-${j}`,
          record: '{"name":"bench","data":{}}',
          delayMs: 0,
        }));
        await addJobs(redis, keys, jobs, nowMs - 30_000);
        await ackAndReserve(redis, keys, { visibilityTimeoutMs: 60_000, count: 2, token: 'seed', acks: [] });
        const workerId = `p${pool}-a:1:x`;
        const beat = encodeHeartbeat({
          workerId,
          pod: `p${pool}-a`,
          pid: 1,
          busy: 2,
          concurrency: 10,
          draining: false,
          beatAt: nowMs,
          startedAt: nowMs,
        });
        await publishHeartbeat(redis, keys, {
          workerId,
          ttlMs: 3_600_000,
          heartbeat: beat,
          visibilityTimeoutMs: 60_000,
          reservations: [],
        });
      }
    });
  },
  spec: (pool, url) => ({ format: 'native', names: poolQueues(pool), redis: { url } }),
};

export const BENCH_FORMATS: readonly BenchFormat[] = [native, sidekiq, bullmq, list, stream];
