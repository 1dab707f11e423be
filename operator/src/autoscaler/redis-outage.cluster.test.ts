import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import { Queue } from '@workerpool/worker-runtime';
import { queueKeys, readQueueSignals } from '@workerpool/worker-runtime/protocol';
import { templatePool } from '../testing/fixtures.ts';
import { useOperatorNamespace } from '../testing/operator-namespace.ts';

// Redis goes away for 30 s while producers keep pushing, on a pool that would shrink if it took
// the silence for an empty queue. Then Redis restarts from its append-only file.

const POLL_SECONDS = 1;
const OUTAGE_MS = 30_000;
const ns = useOperatorNamespace({ redis: { appendOnly: true } });
const signals = () => ns.condition('outage', 'SignalsAvailable');
const replicas = async () => (await ns.replicas('outage')) ?? 0;
const warnings = () => ns.events('outage', 'Warning');

describe('a Redis outage under load', () => {
  const keyPrefix = uniqueKeyPrefix('outage');

  it('holds the pool while signals are missing, says so within two polls with one Warning, and recovers within a poll', async () => {
    const pool = templatePool(ns.name, 'outage', {
      queue: { format: 'native', names: ['jobs'], keyPrefix, redis: { url: ns.redis.url } },
      // No scale-down window: a reading of zero would shrink the pool at once.
      scaling: {
        minReplicas: 1,
        maxReplicas: 8,
        concurrency: 5,
        targetLatencySeconds: 5,
        pollIntervalSeconds: POLL_SECONDS,
        scaleDown: { stabilizationWindowSeconds: 0 },
      },
    });
    await ns.createPool(pool);
    const producer = new Queue('jobs', { connection: ns.redis.url, prefix: keyPrefix });
    await producer.addBulk(Array.from({ length: 200 }, (_, i) => ({ name: 'work', data: { i } })));
    await expect.poll(replicas, { timeout: 20_000, interval: 200 }).toBe(8);

    // CLIENT PAUSE holds every command of every client: each poll times out, as with a Redis
    // that stopped answering, and the producers' writes wait too.
    const hang = new Redis(ns.redis.url);
    await hang.call('CLIENT', ['PAUSE', String(OUTAGE_MS), 'ALL']);
    const hungAt = Date.now();
    void producer.add('work', { during: 'outage' }).catch(() => undefined);
    const lowest = { replicas: 8 };
    let unavailableAfterMs: number | undefined;
    while (Date.now() - hungAt < OUTAGE_MS - 1_000) {
      lowest.replicas = Math.min(lowest.replicas, await replicas());
      if (unavailableAfterMs === undefined && (await signals())?.status === 'False')
        unavailableAfterMs = Date.now() - hungAt;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, hungAt + OUTAGE_MS - Date.now())));
    hang.disconnect();
    const backAt = Date.now();
    await expect.poll(async () => (await signals())?.status, { timeout: 10_000, interval: 100 }).toBe('True');
    const recoveredAfterMs = Date.now() - backAt;
    await producer.close();

    expect(lowest.replicas).toBe(8);
    // Two polls, each bounded by the poller's command timeout (2 s), plus a status write.
    expect(unavailableAfterMs).toBeLessThanOrEqual(2 * POLL_SECONDS * 1000 + 2_000 + 1_000);
    expect(recoveredAfterMs).toBeLessThanOrEqual(POLL_SECONDS * 1000 + 1_000);
    expect((await warnings()).map((event) => event.reason)).toEqual(['SignalsReadFailed']);
  });

  it('loses no job across a Redis restart with the append-only file on, and reads the same depth after it', async () => {
    const waiting = async () => {
      const client = new Redis(ns.redis.url);
      try {
        const [signalsOfJobs] = await readQueueSignals(client, [queueKeys(keyPrefix, 'jobs')]);
        return signalsOfJobs?.waiting;
      } finally {
        client.disconnect();
      }
    };
    const before = await waiting();
    expect(before).toBeGreaterThanOrEqual(200);
    await ns.redis.restart();
    expect(await waiting()).toBe(before);
    await expect.poll(async () => (await signals())?.status, { timeout: 15_000, interval: 200 }).toBe('True');
    await expect
      .poll(
        async () =>
          (await ns.operator.metrics.queueDepth.get()).values.find((v) => v.labels['pool'] === 'outage')?.value,
        { timeout: 15_000, interval: 200 },
      )
      .toBe(before);
  });
});
