import { afterEach, describe, expect, it } from 'vitest';
import { enqueueWork, exampleNativePool } from './harness/e2e-pool.ts';
import { startScenario, type Scenario } from './harness/scenario.ts';

// The product's main job, end to end on a real node: jobs land in Redis, the operator reads the
// queue and grows the Deployment, the scheduler places real worker pods, the kubelet starts them
// and probes them Ready, they work every job, and when the queue is idle the pool shrinks again.

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

const FAST_DOWN = { scaleDown: { stabilizationWindowSeconds: 5 } };

describe('a native pool of real worker pods', () => {
  it('grows on a burst, works every job, and shrinks back to its minimum', async () => {
    scenario = await startScenario();
    const { namespace, redis, evidence } = scenario;
    const watch = scenario.watch('burst');
    await watch.create(
      exampleNativePool(namespace, 'burst', redis.url, {
        recordPrefix: evidence.prefix,
        scaling: {
          minReplicas: 1,
          maxReplicas: 4,
          concurrency: 4,
          targetLatencySeconds: 10,
          pollIntervalSeconds: 1,
          podStartupSeconds: 5,
          ...FAST_DOWN,
        },
      }),
    );
    await expect.poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 }).toBe(1);

    // 160 jobs of 400 ms: one pod of 4 would need 16 s, past the 10 s target.
    const ids = await enqueueWork(redis.url, 'burst', 160, 400);
    await expect.poll(() => watch.specReplicas(), { timeout: 15_000, interval: 200 }).toBeGreaterThan(1);
    await expect
      .poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 })
      .toBeGreaterThan(1);
    await expect.poll(() => evidence.unfinished(ids), { timeout: 120_000, interval: 1_000 }).toEqual([]);
    expect(new Set((await evidence.pods()).values()).size).toBeGreaterThan(1); // more than one pod did the work

    await expect.poll(() => watch.specReplicas(), { timeout: 90_000, interval: 1_000 }).toBe(1);
    await expect.poll(async () => (await watch.pods()).length, { timeout: 60_000, interval: 1_000 }).toBe(1);
    const pool = await watch.pool();
    expect(pool.status?.lastScaleReason).toMatch(/-> 1\b/);
    expect(await evidence.interrupted()).toBe(0);
  });

  it('scales to zero when idle and wakes from zero when a job lands', async () => {
    scenario = await startScenario();
    const { namespace, redis, evidence } = scenario;
    const watch = scenario.watch('sleepy');
    await watch.create(
      exampleNativePool(namespace, 'sleepy', redis.url, {
        recordPrefix: evidence.prefix,
        scaling: {
          minReplicas: 0,
          maxReplicas: 3,
          concurrency: 2,
          targetLatencySeconds: 10,
          pollIntervalSeconds: 1,
          podStartupSeconds: 5,
          scaleToZeroAfterSeconds: 5,
          ...FAST_DOWN,
        },
      }),
    );
    await expect.poll(() => watch.specReplicas(), { timeout: 30_000, interval: 500 }).toBe(0);

    const [id] = await enqueueWork(redis.url, 'sleepy', 1, 100);
    await expect.poll(() => watch.specReplicas(), { timeout: 15_000, interval: 200 }).toBe(1);
    await expect.poll(() => evidence.unfinished([id!]), { timeout: 90_000, interval: 500 }).toEqual([]);

    await expect.poll(() => watch.specReplicas(), { timeout: 60_000, interval: 1_000 }).toBe(0);
    await expect.poll(async () => (await watch.pods()).length, { timeout: 60_000, interval: 1_000 }).toBe(0);
    expect((await watch.pool()).status?.lastScaleReason).toMatch(/idle for the scale-to-zero period/);
  });
});
