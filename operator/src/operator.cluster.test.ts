import { PassThrough } from 'node:stream';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import { Queue } from '@workerpool/worker-runtime';
import type { RunningOperator } from './operator.ts';
import { templatePool } from './testing/fixtures.ts';
import { waitForPolls } from './testing/loop-evidence.ts';
import { useOperatorNamespace } from './testing/operator-namespace.ts';
import { startOperatorForNamespace } from './testing/operator-under-test.ts';

// The operator as a whole on the real API server and a real Redis: what it costs the API server
// while queues change on every poll, how it hands over its lease, and what its probes say.

const PASSWORD = 'pw-operator-test-4e2b';
const POLL_SECONDS = 1;
const ns = useOperatorNamespace({ redis: { password: PASSWORD }, redisPasswordSecret: true, operator: false });
const { kubeConfig, getPool } = ns;
const sum = async (metric: Counter, labels: Record<string, string> = {}) =>
  (await metric.get()).values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((total, v) => total + v.value, 0);

describe('the operator', () => {
  let operator: RunningOperator;
  const logs: string[] = [];

  beforeAll(async () => {
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    operator = await startOperatorForNamespace(kubeConfig, ns.name, {
      logStream,
      leaderElection: { namespace: ns.name },
    });
    await operator.leading;
  });
  afterAll(async () => {
    await operator?.stop();
  });

  it('keeps API traffic bounded while a queue changes on every poll: no status write per poll, no reconcile of its own writes, no Secret reads', async () => {
    const keyPrefix = uniqueKeyPrefix('busy');
    const pool = templatePool(ns.name, 'busy', {
      queue: {
        format: 'native',
        names: ['mail'],
        keyPrefix,
        redis: {
          url: `redis://127.0.0.1:${ns.redis.port}/0`,
          passwordSecretRef: { name: 'redis-auth', key: 'password' },
        },
      },
      // min = max, so that the decision stays put while the readings change.
      scaling: { minReplicas: 2, maxReplicas: 2, pollIntervalSeconds: POLL_SECONDS },
    });
    await ns.createPool(pool);
    await expect
      .poll(
        async () => (await getPool('busy')).status?.conditions?.find((c) => c.type === 'SignalsAvailable')?.status,
        { timeout: 20_000 },
      )
      .toBe('True');
    await waitForPolls(operator.metrics, 2);

    const producer = new Queue('mail', { connection: ns.redis.url, prefix: keyPrefix });
    const before = {
      statusWrites: await sum(operator.metrics.apiWrites, { kind: 'WorkerPool' }),
      reconciles: await sum(operator.metrics.reconcileTotal),
      secretReads: await sum(operator.metrics.secretReads),
    };
    const polls = 8;
    try {
      for (let i = 0; i < polls; i++) {
        await producer.add('send', { i });
        await waitForPolls(operator.metrics, 1); // each change is read by a poll of its own
      }
    } finally {
      await producer.close();
    }
    // The readings changed on every poll, but status is refreshed at most every 30 s.
    expect((await sum(operator.metrics.apiWrites, { kind: 'WorkerPool' })) - before.statusWrites).toBeLessThanOrEqual(
      1,
    );
    expect((await sum(operator.metrics.reconcileTotal)) - before.reconciles).toBeLessThanOrEqual(2);
    expect(await sum(operator.metrics.secretReads)).toBe(before.secretReads);
  });

  it('answers its liveness probe while its loops turn', async () => {
    const response = await fetch(`${operator.addresses.probes}/healthz`);
    expect(response.status).toBe(200);
    expect(operator.watchdog.stuck()).toEqual([]);
  });

  it('stops all work before it hands back the leader lease, so that a standby never acts while it still writes', async () => {
    await operator.stop();
    const messages = logs.map((line) => (JSON.parse(line) as { msg: string }).msg);
    const stoppedWork = messages.indexOf('operator stopped work');
    const released = messages.indexOf('released the leader lease');
    const leaseStory = logs.filter((line) => /lease|stopped work/.test(line)).join('\n');
    expect(stoppedWork, leaseStory).toBeGreaterThanOrEqual(0);
    expect(released, leaseStory).toBeGreaterThan(stoppedWork);
  });
});
