import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitUntil } from '@workerpool/testkit/processes';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { Redis } from 'ioredis';
import { listDeadLetters } from '../dead-letters/dead-letters.ts';
import { createWorkerMetrics } from '../metrics/metrics.ts';
import { Queue } from '../queue/queue.ts';
import { redisFixture } from '../test-support/redis-fixture.ts';
import { Worker } from '../worker/worker.ts';
import { EvictionPolicyError } from './eviction-policy.ts';

describe('a worker knows the Redis it runs on', () => {
  let evicting: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    // A server of its own: the policy is server-wide, and the shared one must stay noeviction.
    evicting = await startRedisServer();
    admin = new Redis(evicting.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
  });
  afterAll(async () => {
    admin.disconnect();
    await evicting.stop();
  });

  it('refuses to start on a Redis that may evict keys, naming the policy and the way out', async () => {
    const worker = new Worker('evicting', { connection: admin, handlers: {} });
    const started = worker.start();
    await expect(started).rejects.toBeInstanceOf(EvictionPolicyError);
    await expect(started).rejects.toThrow(/maxmemory-policy is allkeys-lru.*--eviction-policy-check warn/);
    await worker.close();
    expect(await admin.exists(worker.keys.workers)).toBe(0); // never announced itself
  });

  it('runs on a volatile-* policy, which evicts only keys with a TTL (the runtime sets none), without being told', async () => {
    await admin.config('SET', 'maxmemory-policy', 'volatile-lru');
    try {
      const queue = new Queue('volatile', { connection: admin });
      let ran = 0;
      const worker = new Worker('volatile', { connection: admin, handlers: { n: () => void (ran += 1) } });
      await worker.start();
      await queue.add('n', null);
      await waitUntil('the job to run', () => Promise.resolve(ran === 1), { timeoutMs: 5_000 });
      await worker.close();
      // Nothing the queue wrote can be evicted under it: no key of the queue has a TTL.
      for (const key of await admin.keys('*volatile*')) expect(await admin.ttl(key), key).toBe(-1);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    }
  });

  it('runs there when told to warn only', async () => {
    const queue = new Queue('evicting-warned', { connection: admin });
    let ran = 0;
    const worker = new Worker('evicting-warned', {
      connection: admin,
      handlers: { n: () => void (ran += 1) },
      evictionPolicyCheck: 'warn',
    });
    await worker.start();
    await queue.add('n', null);
    await waitUntil('the job to run', () => Promise.resolve(ran === 1), { timeoutMs: 5_000 });
    await worker.close();
  });

  describe('on the shared noeviction Redis', () => {
    const fx = redisFixture(inject('redisUrl'), 'evicted');
    afterAll(() => fx.cleanup());

    it('keeps a job whose record was evicted as a dead letter, counted, instead of dropping it', async () => {
      const queue = new Queue('evicted', { connection: fx.redis, prefix: fx.prefix });
      const [kept, evicted] = await queue.addBulk([
        { name: 'n', data: null },
        { name: 'n', data: null },
      ]);
      // What eviction of one record looks like to the protocol (Redis evicts whole keys: the whole
      // jobs hash would go, and every waiting job would be found missing the same way).
      await fx.redis.hdel(queue.keys.jobs, evicted?.id ?? '');
      const metrics = createWorkerMetrics();
      const ran: string[] = [];
      const worker = new Worker('evicted', {
        connection: fx.redis,
        prefix: fx.prefix,
        metrics,
        handlers: { n: (job) => void ran.push(job.id) },
      });
      await worker.start();
      await waitUntil('the dead letter of the missing job', async () => (await fx.redis.zcard(queue.keys.dead)) === 1);
      await worker.close();

      expect(ran).toEqual([kept?.id]);
      const [dead] = await listDeadLetters(fx.redis, queue.keys);
      expect(dead).toMatchObject({ id: evicted?.id, reason: 'missing-record' });
      expect(await fx.redis.hget(queue.keys.counters, 'missing')).toBe('1');
      expect((await metrics.jobsMissing.get()).values[0]?.value).toBe(1);
    });
  });
});
