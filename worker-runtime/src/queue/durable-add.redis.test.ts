import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { Redis } from 'ioredis';
import { DurabilityError, Queue } from './queue.ts';

describe('durable adds on a replicated Redis', () => {
  let primary: RedisServer;
  let replica: RedisServer;
  let redis: Redis;
  let onReplica: Redis;
  beforeAll(async () => {
    primary = await startRedisServer();
    replica = await startRedisServer({ replicaOf: primary.port });
    redis = new Redis(primary.url);
    onReplica = new Redis(replica.url);
  });
  afterAll(async () => {
    redis.disconnect();
    onReplica.disconnect();
    await replica.stop();
    await primary.stop();
  });

  it('resolves once the replica has the job, so a failover right after cannot lose it', async () => {
    const queue = new Queue('durable', { connection: redis, durability: { replicas: 1 } });
    const { id } = await queue.add('n', { n: 1 });
    // No wait here: the add resolved only after the replica acknowledged it.
    expect(await onReplica.hexists(queue.keys.jobs, id)).toBe(1);
    expect(await onReplica.llen(queue.keys.wait)).toBe(1);
  });

  it('rejects with the ids when fewer replicas than asked acknowledge in time; a retry is idempotent', async () => {
    const queue = new Queue('too-durable', { connection: redis, durability: { replicas: 2, timeoutMs: 200 } });
    const add = queue.add('n', null, { jobId: 'invoice-9' });
    await expect(add).rejects.toBeInstanceOf(DurabilityError);
    await expect(add).rejects.toMatchObject({ ids: ['invoice-9'], acknowledged: 1 });
    await expect(queue.add('n', null, { jobId: 'invoice-9' })).rejects.toMatchObject({ acknowledged: 1 });
    expect(await redis.llen(queue.keys.wait)).toBe(1); // the retry added nothing twice
  });

  it('refuses a durability that names no replica', () => {
    expect(() => new Queue('q', { connection: redis, durability: { replicas: 0 } })).toThrow(
      'queue option durability.replicas must be an integer >= 1, got 0',
    );
  });
});
