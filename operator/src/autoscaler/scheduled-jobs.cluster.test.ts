import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import { redisEpochSeconds, sidekiqWriter } from '../signals/testing/sidekiq-layout.ts';
import { templatePool } from '../testing/fixtures.ts';
import { useOperatorNamespace } from '../testing/operator-namespace.ts';

// A campaign send: 500 Sidekiq jobs scheduled (perform_in, the schedule ZSET Sidekiq's
// scheduled.rb polls) to come due in 60 s, onto a pool at zero whose pods take 20 s to start. A
// pool that waits for the jobs to come due has its first pod ready 20 s late; this one asks for
// its pods a start-up ahead and says why.

const AHEAD_SECONDS = 60;
const STARTUP_SECONDS = 20;
const JOBS = 500;
const ns = useOperatorNamespace({ redis: {} });

describe('scheduled Sidekiq jobs onto a pool at zero', () => {
  const keyPrefix = uniqueKeyPrefix('campaign');

  it('raises replicas a start-up before the jobs come due, and lastScaleReason names them', async () => {
    await ns.createPool(
      templatePool(ns.name, 'campaign', {
        queue: { format: 'sidekiq', names: ['mailers'], keyPrefix, redis: { url: ns.redis.url } },
        scaling: {
          minReplicas: 0,
          maxReplicas: 20,
          concurrency: 10,
          targetLatencySeconds: 30,
          podStartupSeconds: STARTUP_SECONDS,
          pollIntervalSeconds: 1,
        },
      }),
    );
    const client = new Redis(ns.redis.url);
    const sidekiq = sidekiqWriter(client, '7.3', keyPrefix);
    const dueAtSeconds = (await redisEpochSeconds(client)) + AHEAD_SECONDS;
    for (let job = 0; job < JOBS; job += 1) await sidekiq.schedule('mailers', AHEAD_SECONDS);
    await expect
      .poll(async () => (await ns.replicas('campaign')) ?? 0, { timeout: (AHEAD_SECONDS + 10) * 1000, interval: 250 })
      .toBeGreaterThan(0);
    const roseAtSeconds = await redisEpochSeconds(client);
    // Status is written after the Deployment: wait for the decision's reason to reach it.
    await expect
      .poll(async () => (await ns.getPool('campaign')).status?.lastScaleReason, { timeout: 5_000, interval: 100 })
      .toMatch(/^500 jobs due in \d+s; /);
    client.disconnect();

    // Before they were due, about a start-up ahead (give or take a poll and the API round
    // trips), and not as soon as they were scheduled.
    expect(roseAtSeconds).toBeLessThan(dueAtSeconds);
    expect(roseAtSeconds + STARTUP_SECONDS).toBeLessThanOrEqual(dueAtSeconds + 3);
    expect(roseAtSeconds).toBeGreaterThan(dueAtSeconds - 2 * STARTUP_SECONDS);
  });
});
