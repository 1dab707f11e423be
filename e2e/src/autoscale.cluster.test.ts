import { describe, expect, it } from 'vitest';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { useOperatorNamespace } from '@workerpool/operator/testing/operator-namespace';
import { waitForPolls } from '@workerpool/operator/testing/loop-evidence';
import { Queue } from '@workerpool/worker-runtime';

// The whole loop against real servers: jobs land in a password-protected Redis, the operator
// reads them through the Secret it is pointed at, the scaling engine decides, and the
// Deployment in the real API server grows. Then Redis dies, and the operator holds.

const PASSWORD = 'pw-7f3a9c1e-do-not-leak';
const POLL_SECONDS = 1;
const ns = useOperatorNamespace({ redis: { password: PASSWORD }, redisPasswordSecret: true, captureLogs: true });
const getPool = () => ns.getPool('mailers');
const replicas = () => ns.replicas('mailers');
const condition = (type: string) => ns.condition('mailers', type);
const eventsText = async () => (await ns.events('mailers')).map((event) => `${event.reason}: ${event.message}`);

describe('autoscaling a native pool on a real Redis', () => {
  it('reads the queue with the password from the Secret and reports it in status', async () => {
    const pool = templatePool(ns.name, 'mailers', {
      queue: {
        format: 'native',
        names: ['mail'],
        redis: {
          url: `redis://127.0.0.1:${ns.redis.port}/0`,
          passwordSecretRef: { name: 'redis-auth', key: 'password' },
        },
      },
      scaling: {
        minReplicas: 1,
        maxReplicas: 20,
        concurrency: 5,
        targetLatencySeconds: 5,
        pollIntervalSeconds: POLL_SECONDS,
        podStartupSeconds: 2,
      },
    });
    await ns.createPool(pool);
    await expect.poll(() => condition('SignalsAvailable').then((c) => c?.status), { timeout: 20_000 }).toBe('True');
    expect((await getPool()).status?.queue).toMatchObject({ depth: 0, stale: false });
    expect(await replicas()).toBe(1);

    const env = (await ns.deployment('mailers'))?.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env).toContainEqual({
      name: 'REDIS_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'password' } },
    });
    expect(env).toContainEqual({ name: 'WORKERPOOL_QUEUES', value: 'mail' });
  });

  it('raises the Deployment within a poll interval or two of a burst landing, and says why', async () => {
    const producer = new Queue('mail', { connection: ns.redis.url });
    const landedAt = Date.now();
    await producer.addBulk(Array.from({ length: 400 }, (_, i) => ({ name: 'send', data: { i } })));
    await expect.poll(() => replicas(), { timeout: 15_000, interval: 50 }).toBeGreaterThan(1);
    const reactionMs = Date.now() - landedAt;
    await producer.close();
    // The target is 1.5 poll intervals at p95; one sample on a loaded machine gets a second of slack.
    expect(reactionMs).toBeLessThan(1.5 * POLL_SECONDS * 1000 + 1_000);

    await expect.poll(async () => (await getPool()).status?.queue?.depth, { timeout: 10_000 }).toBe(400);
    const status = (await getPool()).status;
    expect(status?.desiredReplicas).toBeGreaterThan(1);
    expect(status?.lastScaleReason).toMatch(/1 -> \d+/);
    expect(await eventsText()).toContainEqual(
      expect.stringMatching(/^SuccessfulRescale: Scaled Deployment mailers from 1 to \d+ replicas: /),
    );
  });

  it('marks the signals unavailable when Redis dies, keeps the last reading as stale, and never scales down blind', async () => {
    const before = await replicas();
    await ns.redis.stop();
    await expect
      .poll(() => condition('SignalsAvailable').then((c) => c?.reason), { timeout: 20_000 })
      .toBe('SignalsReadFailed');
    expect((await getPool()).status?.queue).toMatchObject({ depth: 400, stale: true });
    expect(await eventsText()).toContainEqual(expect.stringMatching(/^SignalsReadFailed: /));
    await waitForPolls(ns.operator.metrics, 5); // five polls that could not read Redis
    expect(await replicas()).toBe(before);
  });

  it('never writes the Redis password to its logs, the pool status or events', async () => {
    expect(ns.logs.length).toBeGreaterThan(0);
    const everything = [ns.logs.join('\n'), JSON.stringify(await getPool()), JSON.stringify(await eventsText())].join(
      '\n',
    );
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(encodeURIComponent(PASSWORD));
  });
});
