import { randomUUID } from 'node:crypto';
import { Queue as BullQueue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerPoolSpecInput } from '@workerpool/operator/api/defaults';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { TEST_IMAGES } from './harness/images.ts';
import { startScenario, type Scenario } from './harness/scenario.ts';

// Every format scales down, not only the native one: pools of real BullMQ, plain-list and stream
// workers (e2e/images/format-workers) grow on a burst, work every job, and return to their
// minimum once the queue has drained, from the signals each format really has.

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

type Format = 'bullmq' | 'list' | 'stream';
const GROUP = 'workers';

function formatPool(s: Scenario, format: Format, queue: string): ReturnType<typeof templatePool> {
  const queueSpec: WorkerPoolSpecInput['queue'] = { format, names: [queue], redis: { url: s.redis.url } };
  if (format === 'list')
    queueSpec.list = { timestampField: 'enqueuedAt', timestampUnit: 'milliseconds', oldestAt: 'right' };
  if (format === 'stream') queueSpec.stream = { consumerGroup: GROUP };
  return templatePool(s.namespace, format, {
    template: {
      spec: {
        terminationGracePeriodSeconds: 10,
        containers: [
          {
            name: 'worker',
            image: TEST_IMAGES.formatWorkers,
            imagePullPolicy: 'Never',
            args: [format],
            env: [
              { name: 'REDIS_URL', value: s.redis.url },
              { name: 'QUEUE', value: queue },
              { name: 'GROUP', value: GROUP },
              { name: 'CONCURRENCY', value: '2' },
              { name: 'EXAMPLE_RECORD_PREFIX', value: s.evidence.prefix },
            ],
            resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
          },
        ],
      },
    },
    queue: queueSpec,
    scaling: {
      minReplicas: 1,
      maxReplicas: 4,
      concurrency: 2,
      targetLatencySeconds: 5,
      pollIntervalSeconds: 1,
      podStartupSeconds: 8,
      scaleDown: { stabilizationWindowSeconds: 10 },
    },
  });
}

/** Puts `count` jobs of `ms` on the queue the way that format's producers do; returns their ids. */
async function produce(format: Format, redisUrl: string, queue: string, count: number, ms: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  if (format === 'bullmq') {
    const producer = new BullQueue(queue, { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }) });
    await producer.addBulk(ids.map((jobId) => ({ name: 'work', data: { ms }, opts: { jobId } })));
    await producer.close();
    return ids;
  }
  const redis = new Redis(redisUrl);
  try {
    if (format === 'list')
      await redis.lpush(queue, ...ids.map((id) => JSON.stringify({ id, ms, enqueuedAt: Date.now() })));
    else for (const id of ids) await redis.xadd(queue, '*', 'id', id, 'ms', String(ms));
  } finally {
    redis.disconnect();
  }
  return ids;
}

describe.each(['bullmq', 'list', 'stream'] as const)('a %s pool of real workers', (format) => {
  it('grows on a burst, works every job, and returns to its minimum once the queue has drained', async () => {
    scenario = await startScenario();
    const s = scenario;
    const queue = `${format}-${s.namespace}`;
    const watch = s.watch(format);
    await watch.create(formatPool(s, format, queue));
    await expect.poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 }).toBe(1);

    // 100 jobs of 500 ms: 25 s for one pod of 2, far past the 5 s target.
    const ids = await produce(format, s.redis.url, queue, 100, 500);
    await expect.poll(() => watch.specReplicas(), { timeout: 20_000, interval: 250 }).toBeGreaterThan(1);
    await expect.poll(() => s.evidence.unfinished(ids), { timeout: 120_000, interval: 1_000 }).toEqual([]);
    // Drained and idle: back to one replica within the 10 s window and the engine's idle rule.
    await expect.poll(() => watch.specReplicas(), { timeout: 150_000, interval: 1_000 }).toBe(1);
    expect((await watch.pool()).status?.lastScaleReason).toMatch(/-> 1\b/);
  });
});
