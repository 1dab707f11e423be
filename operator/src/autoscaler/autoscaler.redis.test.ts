import type { V1Deployment } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueKeyPrefix } from '@workerpool/e2e/harness/isolation';
import { startRedisServer, type RedisServer } from '@workerpool/e2e/harness/redis-server';
import { Queue } from '@workerpool/worker-runtime';
import { QUEUE_STATUS_REFRESH_SECONDS, type WorkerPool } from '../api/workerpool-schema.ts';
import type { WorkerPoolSpecInput } from '../api/defaults.ts';
import { createLogger } from '../logger.ts';
import { LoopWatchdog } from '../loop-watchdog.ts';
import { createOperatorMetrics, type OperatorMetrics } from '../metrics.ts';
import { templatePool } from '../testing/fixtures.ts';
import { Autoscaler } from './autoscaler.ts';

// The autoscaler against a real, password-protected Redis. What stands in for the Kubernetes
// side is what the autoscaler is given in production too: a function that reads a Secret's
// key, a Deployment lookup and a wake-up call. Tests count what crosses those.

const PASSWORD = 'pw-autoscaler-7c1d';
const POLL_SECONDS = 1;

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer({ password: PASSWORD });
});
afterAll(async () => {
  await redis?.stop();
});

interface Harness {
  autoscaler: Autoscaler;
  watchdog: LoopWatchdog;
  secretReads: () => number;
  wakeUps: () => number;
  /** Moves the autoscaler's and the watchdog's clock on, without waiting. */
  advanceClock: (ms: number) => void;
  deployment: { current: V1Deployment | undefined };
  metrics: OperatorMetrics;
}

const running: Autoscaler[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop()));
});

function startAutoscaler(readSecret: () => Promise<string | undefined>): Harness {
  let reads = 0;
  let wakes = 0;
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;
  const watchdog = new LoopWatchdog(now);
  const deployment: Harness['deployment'] = { current: undefined };
  const metrics = createOperatorMetrics();
  const autoscaler = new Autoscaler({
    readSecretValue: async () => {
      reads += 1;
      return readSecret();
    },
    deploymentOf: () => deployment.current,
    enqueue: () => {
      wakes += 1;
    },
    metrics,
    logger: createLogger('fatal'),
    watchdog,
    now,
    secretRetryMs: 50,
  });
  running.push(autoscaler);
  return {
    autoscaler,
    watchdog,
    secretReads: () => reads,
    wakeUps: () => wakes,
    advanceClock: (ms) => (offsetMs += ms),
    deployment,
    metrics,
  };
}

function nativePool(name: string, keyPrefix: string, scaling: WorkerPoolSpecInput['scaling'] = {}): WorkerPool {
  const pool = templatePool('billing', name, {
    queue: {
      format: 'native',
      names: ['mail'],
      keyPrefix,
      redis: { url: `redis://127.0.0.1:${redis.port}/0`, passwordSecretRef: { name: 'redis-auth', key: 'password' } },
    },
    scaling: { minReplicas: 1, maxReplicas: 10, pollIntervalSeconds: POLL_SECONDS, ...scaling },
  });
  pool.metadata.generation = 1;
  return pool;
}

const deploymentWith = (replicas: number): V1Deployment => ({
  metadata: { name: 'mailers', namespace: 'billing' },
  spec: { replicas, selector: {}, template: {} },
  status: { readyReplicas: replicas },
});
const signals = (harness: Harness, pool: WorkerPool) =>
  harness.autoscaler.view(pool, harness.deployment.current).conditions.find((c) => c.type === 'SignalsAvailable');
const POLL = { timeout: 10_000, interval: 50 };

describe('the autoscaler', () => {
  it('reads the Redis password from its Secret once, when the pool is registered, and never on later polls or views', async () => {
    const harness = startAutoscaler(() => Promise.resolve(PASSWORD));
    const pool = nativePool('mailers', uniqueKeyPrefix('secret-once'));
    await expect.poll(() => signals(harness, pool)?.status, POLL).toBe('True');
    for (let i = 0; i < 20; i++) harness.autoscaler.view(pool, undefined);
    await new Promise((resolve) => setTimeout(resolve, 3 * POLL_SECONDS * 1000));
    expect(harness.secretReads()).toBe(1);
  });

  it('recovers from a failed Secret read after a password rotation, instead of giving up on the pool', async () => {
    let secret = PASSWORD;
    let failNext = false;
    const harness = startAutoscaler(() => {
      if (!failNext) return Promise.resolve(secret);
      failNext = false;
      return Promise.reject(new Error('etcdserver: request timed out'));
    });
    const pool = nativePool('rotated', uniqueKeyPrefix('rotation'));
    await expect.poll(() => signals(harness, pool)?.status, POLL).toBe('True');

    // The password is rotated: Redis refuses the old one, and the first re-read of the Secret fails.
    const admin = new Redis(redis.url);
    const rotated = 'pw-rotated-91ab';
    failNext = true;
    secret = rotated;
    await admin.config('SET', 'requirepass', rotated);
    await admin.call('CLIENT', ['KILL', 'TYPE', 'normal', 'SKIPME', 'yes']); // connections made with the old password must log in again
    admin.disconnect();
    try {
      await expect.poll(() => signals(harness, pool)?.reason, POLL).toBe('SignalsReadFailed');
      await expect.poll(() => signals(harness, pool)?.status, POLL).toBe('True');
      expect(harness.secretReads()).toBeGreaterThanOrEqual(3); // registration, the failed re-read, the good one
    } finally {
      const restore = new Redis(redis.url.replace(PASSWORD, rotated));
      await restore.config('SET', 'requirepass', PASSWORD);
      restore.disconnect();
    }
  });

  it('wakes the reconciler for a changing queue only when status is due: at once for a new decision or condition, else once a refresh period', async () => {
    const harness = startAutoscaler(() => Promise.resolve(PASSWORD));
    const keyPrefix = uniqueKeyPrefix('bounded');
    // Pinned, so that the decision stays put while the readings change on every poll.
    const pool = nativePool('busy', keyPrefix);
    pool.spec.replicas = 3;
    harness.deployment.current = deploymentWith(3);
    const producer = new Queue('mail', { connection: redis.url, prefix: keyPrefix });
    try {
      await expect.poll(() => signals(harness, pool)?.status, POLL).toBe('True');
      const afterFirstReading = harness.wakeUps();
      for (let i = 0; i < 4; i++) {
        await producer.add('send', { i });
        await new Promise((resolve) => setTimeout(resolve, POLL_SECONDS * 1000));
      }
      expect(harness.autoscaler.view(pool, harness.deployment.current).queue?.depth).toBe(0); // status still shows the reading it published
      expect(harness.wakeUps()).toBe(afterFirstReading);

      harness.advanceClock(QUEUE_STATUS_REFRESH_SECONDS * 1000);
      await expect.poll(() => harness.wakeUps(), POLL).toBe(afterFirstReading + 1);
      expect(harness.autoscaler.view(pool, harness.deployment.current).queue?.depth).toBe(4);
    } finally {
      await producer.close();
    }
  });

  it('leaves pin, pause, limits and the first decision to the engine: a paused pool is held as it is, even above maxReplicas', () => {
    const harness = startAutoscaler(() => Promise.resolve(PASSWORD));
    const keyPrefix = uniqueKeyPrefix('rules');
    const fresh = nativePool('fresh', keyPrefix, { minReplicas: 2 });
    expect(harness.autoscaler.view(fresh, undefined).replicas).toBe(2);

    const paused = nativePool('paused', keyPrefix, { maxReplicas: 4 });
    paused.spec.paused = true;
    expect(harness.autoscaler.view(paused, deploymentWith(6)).replicas).toBe(6);

    const pinned = nativePool('pinned', keyPrefix, { maxReplicas: 4 });
    expect(harness.autoscaler.view(pinned, deploymentWith(1)).replicas).toBe(1);
    pinned.spec.replicas = 3;
    pinned.metadata.generation = 2;
    const view = harness.autoscaler.view(pinned, deploymentWith(1));
    expect(view.replicas).toBe(3);
    expect(view.reason).toMatch(/^pinned to 3 by spec.replicas/);
  });

  it("shows a pool's latest reading and decision when scraped, its scale decisions from 0, and nothing once it is gone", async () => {
    const harness = startAutoscaler(() => Promise.resolve(PASSWORD));
    const keyPrefix = uniqueKeyPrefix('scraped');
    const pool = nativePool('scraped', keyPrefix, { minReplicas: 2, maxReplicas: 7 });
    harness.deployment.current = deploymentWith(2);
    const scrape = async () =>
      (await harness.metrics.registry.metrics())
        .split('\n')
        .filter((line) => line.includes('pool="scraped"'))
        .map((line) => line.replace('namespace="billing",', ''));
    const seriesOf = async (name: string) => (await scrape()).filter((line) => line.startsWith(`${name}{`));

    // Registered, not yet polled: no decision has been counted, in either direction.
    harness.autoscaler.view(pool, harness.deployment.current);
    expect(await seriesOf('workerpool_scale_decisions_total')).toEqual([
      'workerpool_scale_decisions_total{pool="scraped",direction="up",reason=""} 0',
      'workerpool_scale_decisions_total{pool="scraped",direction="down",reason=""} 0',
    ]);

    const producer = new Queue('mail', { connection: redis.url, prefix: keyPrefix });
    try {
      for (let i = 0; i < 3; i++) await producer.add('send', { i });
      await expect
        .poll(() => seriesOf('workerpool_queue_depth'), POLL)
        .toEqual(['workerpool_queue_depth{pool="scraped"} 3']);
      const lines = await scrape();
      expect(lines).toContain('workerpool_signals_available{pool="scraped"} 1');
      expect(lines).toContain('workerpool_queue_unreadable_heartbeats{pool="scraped"} 0');
      expect(lines).toContain('workerpool_desired_replicas{pool="scraped"} 2');
      expect(lines).toContain('workerpool_ready_replicas{pool="scraped"} 2');
      expect(lines).toContain('workerpool_max_replicas{pool="scraped"} 7');
    } finally {
      await producer.close();
    }

    // Deleted: every gauge of the pool goes with it, or dashboards would show it forever.
    harness.autoscaler.forget('billing/scraped');
    expect((await scrape()).filter((line) => !line.startsWith('workerpool_scale_decisions_total'))).toEqual([]);
  });

  it('tells the liveness probe when its poll loop stops turning', async () => {
    const harness = startAutoscaler(() => Promise.resolve(PASSWORD));
    const pool = nativePool('watched', uniqueKeyPrefix('watchdog'));
    await expect.poll(() => signals(harness, pool)?.status, POLL).toBe('True');
    expect(harness.watchdog.stuck()).toEqual([]);
    // Ten minutes without a poll finishing, as a hung loop would look to the probe.
    harness.advanceClock(10 * 60_000);
    expect(harness.watchdog.stuck()).toEqual([expect.stringMatching(/^poll .*: no progress for \d+s/)]);
    await harness.autoscaler.stop();
    expect(harness.watchdog.stuck()).toEqual([]);
  });
});
