import type { V1Deployment } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { Queue } from '@workerpool/worker-runtime';
import { QUEUE_STATUS_REFRESH_SECONDS, type WorkerPool } from '../api/workerpool-schema.ts';
import type { WorkerPoolSpecInput } from '../api/defaults.ts';
import { createLogger } from '../logger.ts';
import { LoopWatchdog } from '../loop-watchdog.ts';
import { createOperatorMetrics, type OperatorMetrics } from '../metrics.ts';
import { templatePool } from '../testing/fixtures.ts';
import { waitForPolls } from '../testing/loop-evidence.ts';
import { beatAsWorkers, type PodWorker } from '../testing/worker-heartbeats.ts';
import { parseEndpointPolicy } from '../signals/endpoint-policy.ts';
import { startTlsRedis } from '@workerpool/testkit/tls-redis';
import { trimPool } from '../controller/cache-trim.ts';
import { Autoscaler } from './autoscaler.ts';

// The autoscaler against a real, password-protected Redis. What stands in for the Kubernetes
// side is what the autoscaler is given in production too: informer events (poolChanged,
// poolDeleted), a function that reads a Secret's key, a Deployment lookup and a wake-up call.
// Tests count what crosses those, and read decisions from the store the reconciler reads.

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
const keyOf = (pool: WorkerPool) => `${pool.metadata.namespace}/${pool.metadata.name}`;
/** What the reconciler would read for the pool now. */
const decisionOf = (harness: Harness, pool: WorkerPool) => harness.autoscaler.decisions.read(keyOf(pool));
/**
 * The informer delivers the pool (new, edited, or again with only its status changed), as its
 * cache keeps it: the pod template packed (cache-trim.ts), so that nothing here reads it whole.
 */
const observe = (harness: Harness, pool: WorkerPool) => {
  const cached = structuredClone(pool);
  trimPool(cached);
  harness.autoscaler.poolChanged(cached);
  return decisionOf(harness, pool);
};
const signals = (harness: Harness, pool: WorkerPool) =>
  decisionOf(harness, pool)?.conditions.find((c) => c.type === 'SignalsAvailable');
const POLL = { timeout: 10_000, interval: 50 };

describe('the autoscaler', () => {
  it('decides a pool whose template is above the bound the cache keeps, reading it as absent', () => {
    const harness = startAutoscaler(() => Promise.resolve(PASSWORD));
    const pool = nativePool('oversized', uniqueKeyPrefix('oversized'), { minReplicas: 2 });
    pool.spec.template!.metadata = { annotations: { big: 'x'.repeat(200 * 1024) } };
    expect(observe(harness, pool)?.replicas).toBe(2);
    const grace = decisionOf(harness, pool)?.conditions.find((c) => c.type === 'GracePeriod');
    expect(grace?.status).toBe('True');
  });

  it('reads the Redis password from its Secret once, when the pool is registered, and never on later polls or status-only updates', async () => {
    const harness = startAutoscaler(() => Promise.resolve(PASSWORD));
    const pool = nativePool('mailers', uniqueKeyPrefix('secret-once'));
    observe(harness, pool);
    await expect.poll(() => signals(harness, pool)?.status, POLL).toBe('True');
    // The same spec delivered again, as each of our own status writes comes back from the watch.
    for (let i = 0; i < 20; i++) observe(harness, structuredClone(pool));
    await waitForPolls(harness.metrics, 3);
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
    observe(harness, pool);
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
    observe(harness, pool);
    const producer = new Queue('mail', { connection: redis.url, prefix: keyPrefix });
    try {
      await expect.poll(() => signals(harness, pool)?.status, POLL).toBe('True');
      const afterFirstReading = harness.wakeUps();
      for (let i = 0; i < 4; i++) {
        await producer.add('send', { i });
        await waitForPolls(harness.metrics, 1); // each job is seen by a poll of its own
      }
      expect(decisionOf(harness, pool)?.queue?.depth).toBe(0); // status still shows the reading it published
      expect(harness.wakeUps()).toBe(afterFirstReading);

      harness.advanceClock(QUEUE_STATUS_REFRESH_SECONDS * 1000);
      await expect.poll(() => harness.wakeUps(), POLL).toBe(afterFirstReading + 1);
      expect(decisionOf(harness, pool)?.queue?.depth).toBe(4);
    } finally {
      await producer.close();
    }
  });

  it('decides a new spec as soon as the informer delivers it: pin, pause, limits and the first decision, by the engine', () => {
    const harness = startAutoscaler(() => Promise.resolve(PASSWORD));
    const keyPrefix = uniqueKeyPrefix('rules');
    const fresh = nativePool('fresh', keyPrefix, { minReplicas: 2 });
    expect(observe(harness, fresh)?.replicas).toBe(2);

    // A paused pool is held as it is, even above maxReplicas.
    harness.deployment.current = deploymentWith(6);
    const paused = nativePool('paused', keyPrefix, { maxReplicas: 4 });
    paused.spec.paused = true;
    expect(observe(harness, paused)).toMatchObject({ replicas: 6, reasonCode: 'Paused' });

    harness.deployment.current = deploymentWith(1);
    const pinned = nativePool('pinned', keyPrefix, { maxReplicas: 4 });
    expect(observe(harness, pinned)?.replicas).toBe(1);
    // An edit: a pin, with a pause beside it. The pin wins, and the decision says so.
    const edited = structuredClone(pinned);
    edited.spec.replicas = 3;
    edited.spec.paused = true;
    edited.metadata.generation = 2;
    const view = observe(harness, edited);
    expect(view).toMatchObject({ generation: 2, replicas: 3, reasonCode: 'Pinned' });
    expect(view?.reason).toMatch(/^pinned to 3 by spec.replicas/);
  });

  it('holds a paused pool at its replicas while a pod it asked to drain finishes, and lets that pod go on resume', async () => {
    const harness = startAutoscaler(() => Promise.resolve(PASSWORD));
    const keyPrefix = uniqueKeyPrefix('paused-drain');
    const beat = (pods: Record<string, PodWorker>) => beatAsWorkers(redis.url, keyPrefix, 'mail', pods, 15_000);
    const pool = nativePool('mailers', keyPrefix, { minReplicas: 1, maxReplicas: 3 });
    pool.spec.replicas = 2; // one pod fewer than the Deployment has: one is chosen to drain
    harness.deployment.current = deploymentWith(3);
    await beat({ a: { busy: 1 }, b: { busy: 1 }, c: { busy: 0 } });
    observe(harness, pool);
    await expect.poll(() => decisionOf(harness, pool)?.drain?.draining, POLL).toEqual(['c']);
    expect(decisionOf(harness, pool)?.replicas).toBe(3);

    // Paused (the pin removed) while c drains; then c says quiet with nothing running.
    const paused = structuredClone(pool);
    delete paused.spec.replicas;
    paused.spec.paused = true;
    paused.metadata.generation = 2;
    expect(observe(harness, paused)).toMatchObject({ reasonCode: 'Paused', replicas: 3 });
    await beat({ a: { busy: 1 }, b: { busy: 1 }, c: { busy: 0, draining: true } });
    await expect.poll(() => decisionOf(harness, pool)?.drain?.drained, POLL).toEqual(['c']);
    await waitForPolls(harness.metrics, 2);
    expect(decisionOf(harness, pool)).toMatchObject({ reasonCode: 'Paused', replicas: 3 });

    // Resumed, pinned to 2 again: c, drained all along, goes now.
    const resumed = structuredClone(pool);
    resumed.metadata.generation = 3;
    expect(observe(harness, resumed)).toMatchObject({ reasonCode: 'Pinned', replicas: 2 });
  });

  it('lets a pod of workers older than remote drain go at once, idle-first, instead of asking it and waiting out the deadline', async () => {
    const harness = startAutoscaler(() => Promise.resolve(PASSWORD));
    const keyPrefix = uniqueKeyPrefix('older-runtime');
    const pool = nativePool('mailers', keyPrefix, { minReplicas: 1, maxReplicas: 3 });
    pool.spec.replicas = 2;
    harness.deployment.current = deploymentWith(3);
    // Mid-upgrade: c still runs a runtime that writes no remoteDrain and would ignore a request.
    await beatAsWorkers(redis.url, keyPrefix, 'mail', {
      a: { busy: 1 },
      b: { busy: 1 },
      c: { busy: 0, olderRuntime: true },
    });
    observe(harness, pool);
    await expect.poll(() => decisionOf(harness, pool)?.drain, POLL).toMatchObject({ drained: ['c'], unasked: ['c'] });
    expect(decisionOf(harness, pool)?.replicas).toBe(2);
    // No request was written for it: nothing on the queue but what the workers wrote.
    const client = new Redis(redis.url);
    try {
      expect(await client.keys(`${keyPrefix}*:drain:*`)).toEqual([]);
    } finally {
      client.disconnect();
    }
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
    observe(harness, pool);
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
    harness.autoscaler.poolDeleted('billing', 'scraped');
    expect((await scrape()).filter((line) => !line.startsWith('workerpool_scale_decisions_total'))).toEqual([]);
  });

  it('tells the liveness probe when its poll loop stops turning', async () => {
    const harness = startAutoscaler(() => Promise.resolve(PASSWORD));
    const pool = nativePool('watched', uniqueKeyPrefix('watchdog'));
    observe(harness, pool);
    await expect.poll(() => signals(harness, pool)?.status, POLL).toBe('True');
    expect(harness.watchdog.stuck()).toEqual([]);
    // Ten minutes without a poll finishing, as a hung loop would look to the probe.
    harness.advanceClock(10 * 60_000);
    expect(harness.watchdog.stuck()).toEqual([expect.stringMatching(/^poll .*: no progress for \d+s/)]);
    await harness.autoscaler.stop();
    expect(harness.watchdog.stuck()).toEqual([]);
  });

  it('reads a CA Secret again after a failed TLS handshake, so a rotated or fixed CA heals the pool without an edit', async () => {
    const tlsRedis = await startTlsRedis();
    let ca = '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n';
    let caReads = 0;
    const autoscaler = new Autoscaler({
      readSecretValue: (_namespace, _name, key) => {
        if (key !== 'ca.crt') return Promise.resolve(undefined);
        caReads += 1;
        return Promise.resolve(ca);
      },
      deploymentOf: () => undefined,
      enqueue: () => undefined,
      metrics: createOperatorMetrics(),
      logger: createLogger('fatal'),
      secretRetryMs: 50,
    });
    running.push(autoscaler);
    const pool = templatePool('billing', 'tls', {
      queue: {
        format: 'list',
        names: ['jobs'],
        redis: {
          url: `rediss://127.0.0.1:${tlsRedis.port}`,
          tls: { enabled: true, insecureSkipVerify: false, caSecretRef: { name: 'redis-ca', key: 'ca.crt' } },
        },
      },
      scaling: { pollIntervalSeconds: POLL_SECONDS },
    });
    pool.metadata.generation = 1;
    try {
      autoscaler.poolChanged(pool);
      const signalsOf = () =>
        autoscaler.decisions.read('billing/tls')?.conditions.find((c) => c.type === 'SignalsAvailable');
      await expect.poll(() => signalsOf()?.status, POLL).toBe('False');
      ca = tlsRedis.ca; // the platform team fixes the Secret; the pool's spec is not touched
      await expect.poll(() => signalsOf()?.status, POLL).toBe('True');
      expect(caReads).toBeGreaterThanOrEqual(2);
    } finally {
      await autoscaler.stop();
      await tlsRedis.stop();
    }
  });

  it('refuses a pool naming a Redis host the platform does not allow, before reading its Secrets or connecting', async () => {
    let secretReads = 0;
    const metrics = createOperatorMetrics();
    const autoscaler = new Autoscaler({
      readSecretValue: () => {
        secretReads += 1;
        return Promise.resolve(PASSWORD);
      },
      deploymentOf: () => undefined,
      enqueue: () => undefined,
      metrics,
      logger: createLogger('fatal'),
      endpointPolicy: parseEndpointPolicy(['127.0.0.1']),
    });
    running.push(autoscaler);
    const keyPrefix = uniqueKeyPrefix('policy');
    const allowed = nativePool('allowed', keyPrefix);
    // The same Redis, named by another address: an operator without a policy would read it.
    const elsewhere = nativePool('elsewhere', keyPrefix);
    elsewhere.spec.queue.redis.url = `redis://localhost:${redis.port}/0`;
    autoscaler.poolChanged(allowed);
    autoscaler.poolChanged(elsewhere);
    const signalsOf = (name: string) =>
      autoscaler.decisions.read(`billing/${name}`)?.conditions.find((c) => c.type === 'SignalsAvailable');
    await expect.poll(() => signalsOf('allowed')?.status, POLL).toBe('True');
    await waitForPolls(metrics, 2);
    expect(signalsOf('elsewhere')).toMatchObject({ status: 'False', reason: 'EndpointNotAllowed' });
    expect(signalsOf('elsewhere')?.message).toMatch(
      /^spec\.queue\.redis\.url: host "localhost" is not among the Redis endpoints/,
    );
    expect(secretReads).toBe(1); // the allowed pool's only
  });
});
