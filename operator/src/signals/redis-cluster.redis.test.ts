import { Cluster, Redis } from 'ioredis';
import { addJobs, queueKeys } from '@workerpool/worker-runtime/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullmqKeys } from './bullmq-reader.ts';
import { SignalPoller } from './signal-poller.ts';
import { startRedisCluster, type RedisCluster } from '@workerpool/testkit/redis-cluster';

const hostPort = (endpoint: string) => ({ host: '127.0.0.1', port: Number(endpoint.split(':')[1]) });

/**
 * Adds a job with the worker-runtime's own protocol call. That call takes a plain connection, so
 * it is tried on each node until the one owning the queue's slot accepts it (others answer MOVED).
 */
async function addNativeJob(endpoints: readonly string[], queue: string, atMs: number): Promise<void> {
  for (const endpoint of endpoints) {
    const node = new Redis(hostPort(endpoint));
    try {
      await addJobs(node, queueKeys('wp:', queue), [{ id: `${queue}-1`, record: '{}', delayMs: 0 }], atMs);
      return;
    } catch (err) {
      if (!String(err).includes('MOVED')) throw err;
    } finally {
      node.disconnect();
    }
  }
  throw new Error(`no cluster node accepted queue ${queue}`);
}

describe('reading from a real Redis Cluster', () => {
  let cluster: RedisCluster;
  const poller = new SignalPoller();

  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(async () => {
    await poller.close();
    await cluster.stop();
  });

  it('reads queues hashed to different slots, each script routed to the node that owns its keys', async () => {
    const now = Date.now();
    for (const q of ['alpha', 'bravo', 'charlie', 'delta']) await addNativeJob(cluster.endpoints, q, now - 10_000);
    // BullMQ on a cluster uses a {prefix} so that one queue's keys share a slot.
    const seed = new Cluster(cluster.endpoints.map(hostPort));
    const k = bullmqKeys('{jobs}', 'emails');
    await seed.lpush(k.wait, '1');
    await seed.hset(`${k.jobPrefix}1`, 'timestamp', now - 5000, 'opts', '{}');
    seed.disconnect();
    const endpoints = cluster.endpoints;
    poller.register('native', {
      queue: { format: 'native', names: ['alpha', 'bravo', 'charlie', 'delta'], redis: { cluster: { endpoints } } },
    });
    poller.register('bullmq', {
      queue: { format: 'bullmq', names: ['emails'], keyPrefix: '{jobs}', redis: { cluster: { endpoints } } },
    });
    const results = await poller.readAll();
    const native = results.get('native');
    const bull = results.get('bullmq');
    expect(native?.ok, native?.ok === false ? native.error.message : '').toBe(true);
    expect(native?.ok && native.reading.depth).toBe(4);
    expect(native?.ok && native.reading.oldestJobAgeSeconds).toBeGreaterThanOrEqual(10);
    expect(bull?.ok, bull?.ok === false ? bull.error.message : '').toBe(true);
    expect(bull?.ok && bull.reading).toMatchObject({ depth: 1 });
  });
});
