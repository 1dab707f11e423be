import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { pushSidekiqJobs, sidekiqTemplate } from './harness/sidekiq.ts';
import { startScenario, type Scenario } from './harness/scenario.ts';

// A Rails team's Sidekiq workers, scaled on latency: real Sidekiq 6 processes in real pods take
// jobs that the real Sidekiq client pushed, and their heartbeats tell the operator how busy they are.

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

/** The operator's own gauge, read from its /metrics as Prometheus would. */
async function busyGauge(s: Scenario, pool: string): Promise<number | undefined> {
  const text = await (await fetch(`${s.operator.addresses.metrics}/metrics`)).text();
  const match = new RegExp(`^workerpool_queue_busy\\{namespace="${s.namespace}",pool="${pool}"\\} (\\d+)`, 'm').exec(
    text,
  );
  return match ? Number(match[1]) : undefined;
}

/** For each job not finished: its runs started, its last pod and how that pod ended, and which Sidekiq set holds it. */
async function whereAreJobs(s: Scenario, queue: string, jids: readonly string[]): Promise<object[]> {
  const redis = new Redis(s.redis.url);
  try {
    const [started, pods] = [await s.evidence.started(), await s.evidence.pods()];
    const sets = {
      queue: await redis.lrange(`queue:${queue}`, 0, -1),
      retry: await redis.zrange('retry', '0', '-1'),
      schedule: await redis.zrange('schedule', '0', '-1'),
      dead: await redis.zrange('dead', '0', '-1'),
    };
    const unfinished = await s.evidence.unfinished(jids);
    return await Promise.all(
      unfinished.map(async (jid) => {
        const pod = pods.get(jid);
        return {
          jid,
          started: started.get(jid) ?? 0,
          pod,
          // When that pod's Sidekiq started, began to shut down and exited (jobs.rb): a shutdown
          // with no exit is a process killed before it finished stopping.
          lifecycle: pod === undefined ? undefined : await redis.hgetall(`${s.evidence.prefix}lifecycle:${pod}`),
          in: Object.entries(sets)
            .filter(([, jobs]) => jobs.some((job) => job.includes(jid)))
            .map(([name]) => name),
        };
      }),
    );
  } finally {
    redis.disconnect();
  }
}

describe('a Sidekiq pool of real Sidekiq pods', () => {
  it('grows on a burst pushed by the Sidekiq client, sees busy threads in heartbeats, works every job and shrinks back', async () => {
    scenario = await startScenario();
    const s = scenario;
    const watch = s.watch('rails');
    const queue = `q-${s.namespace}`;
    await watch.create(
      templatePool(s.namespace, 'rails', {
        template: sidekiqTemplate({
          redisUrl: s.redis.url,
          queue,
          recordPrefix: s.evidence.prefix,
          concurrency: 3,
          shutdownSeconds: 10,
          graceSeconds: 15,
        }),
        queue: { format: 'sidekiq', names: [queue], redis: { url: s.redis.url } },
        scaling: {
          minReplicas: 1,
          maxReplicas: 4,
          concurrency: 3,
          targetLatencySeconds: 10,
          pollIntervalSeconds: 1,
          podStartupSeconds: 8,
          scaleDown: { stabilizationWindowSeconds: 5 },
        },
      }),
    );
    await expect.poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 }).toBe(1);

    // 90 jobs of 1.5 s: 45 s for one pod of 3 threads, far past the 10 s target.
    const jids = pushSidekiqJobs(s.redis.url, queue, 90, 1_500);
    await expect.poll(() => watch.specReplicas(), { timeout: 15_000, interval: 200 }).toBeGreaterThan(1);
    await expect.poll(() => busyGauge(s, 'rails'), { timeout: 30_000, interval: 250 }).toBeGreaterThan(0);
    await expect
      .poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 })
      .toBeGreaterThan(1);
    await expect
      .poll(() => s.evidence.unfinished(jids), { timeout: 120_000, interval: 1_000 })
      .toEqual([])
      .catch(async (error: unknown) => {
        // Say where each unfinished job is, so that a failure tells a lost job from a slow one.
        console.log(`unfinished Sidekiq jobs: ${JSON.stringify(await whereAreJobs(s, queue, jids))}`);
        throw error;
      });
    expect(new Set((await s.evidence.pods()).values()).size).toBeGreaterThan(1);

    await expect.poll(() => watch.specReplicas(), { timeout: 120_000, interval: 1_000 }).toBe(1);
  });
});
