import { PassThrough } from 'node:stream';
import { AppsV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type WorkerPool } from '@workerpool/operator/api/workerpool-schema';
import type { RunningOperator } from '@workerpool/operator/operator';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { startOperatorForNamespace } from '@workerpool/operator/testing/operator-under-test';
import { enqueueWork } from '../harness/e2e-pool.ts';
import { installCrds, startControlPlane, type ControlPlane } from '@workerpool/testkit/control-plane';
import { compactPastEverySeenVersion } from '@workerpool/testkit/etcd';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';

// The API server goes away under a running operator and comes back with the history its watches
// were resuming from compacted away, so every watch is answered 410 Gone and the operator must
// re-list. Meanwhile the world moved on: a queue filled while the server was down, and right after
// it came back a pool was edited and another created. None may stay unreconciled for 30 s.
//
// A control plane of the test's own, with the operator as a process in this one: restarting the
// shared node's API server and compacting its store would break every other test's pods, and the
// operator's own log and metrics are at hand here. The fault is the same one a node would see.

const NAMESPACE = 'default';
const BOUND_MS = 30_000;
/** About as long as an API server upgrade takes: the operator's watch restarts fail and back off to their longest. */
const OUTAGE_MS = 20_000;

let controlPlane: ControlPlane;
let redis: RedisServer;
let operator: RunningOperator;
let kubeConfig: KubeConfig;
const logs: string[] = [];

beforeAll(async () => {
  controlPlane = await startControlPlane();
  installCrds(controlPlane);
  redis = await startRedisServer();
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
  operator = await startOperatorForNamespace(kubeConfig, NAMESPACE, { logStream });
});
afterAll(async () => {
  await operator?.stop();
  await redis?.stop();
  await controlPlane?.stop();
});

const pool = (name: string) =>
  templatePool(NAMESPACE, name, {
    queue: { format: 'native', names: [name], redis: { url: redis.url } },
    scaling: {
      minReplicas: 1,
      maxReplicas: 20,
      concurrency: 5,
      targetLatencySeconds: 5,
      pollIntervalSeconds: 1,
      podStartupSeconds: 2,
    },
  });

describe('an API server restart whose watches come back expired (410 Gone)', () => {
  it('re-lists, and reconciles every pool changed meanwhile within 30 s of the server returning', async () => {
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const create = (name: string) =>
      custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: NAMESPACE,
        body: pool(name),
      });
    const read = async (name: string) =>
      (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: NAMESPACE,
        name,
      })) as WorkerPool;
    const deployment = (name: string) =>
      apps.readNamespacedDeployment({ name, namespace: NAMESPACE }).catch(() => undefined);
    /** What is still unreconciled about a pool, or '' when its Deployment and status caught up. */
    const lagOf = async (name: string, expect: { image?: string; minReplicas?: number } = {}) => {
      const [current, target] = await Promise.all([read(name), deployment(name)]);
      if (!target) return `${name}: no Deployment`;
      if (current.status?.observedGeneration !== current.metadata.generation)
        return `${name}: status.observedGeneration ${current.status?.observedGeneration} of generation ${current.metadata.generation}`;
      const image = target.spec?.template.spec?.containers[0]?.image;
      if (expect.image && image !== expect.image) return `${name}: Deployment image ${image}`;
      const replicas = target.spec?.replicas ?? 0;
      if (expect.minReplicas && replicas < expect.minReplicas) return `${name}: Deployment replicas ${replicas}`;
      return '';
    };

    await create('filled-while-down');
    await create('edited-after');
    await expect
      .poll(async () => (await lagOf('filled-while-down')) + (await lagOf('edited-after')), { timeout: 20_000 })
      .toBe('');
    expect((await deployment('filled-while-down'))?.spec?.replicas).toBe(1);

    let compactedAt = 0;
    await controlPlane.restartApiServer(async () => {
      compactedAt = await compactPastEverySeenVersion(controlPlane.etcdUrl);
      // 400 jobs of 1 s at concurrency 5 and a 5 s target: the operator wants far more than one
      // replica, decides so at its next poll, and cannot write it until the server is back.
      await enqueueWork(redis.url, 'filled-while-down', 400, 1_000);
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    });
    const backAt = Date.now();
    await custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: NAMESPACE,
        name: 'edited-after',
        body: {
          spec: { template: { spec: { containers: [{ name: 'worker', image: 'registry.example/mailer:2.0' }] } } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await create('created-after');

    // The operator's own account: both watches were refused as expired, and both re-listed.
    const relisted = () =>
      new Set(
        logs
          .join('')
          .split('\n')
          .filter((line) => line.includes('watch expired (410 Gone); re-listed'))
          .map((line) => (JSON.parse(line) as { informer: string }).informer),
      );
    const lag = async () =>
      [
        await lagOf('filled-while-down', { minReplicas: 2 }),
        await lagOf('edited-after', { image: 'registry.example/mailer:2.0' }),
        await lagOf('created-after'),
        ...['workerpools', 'deployments']
          .filter((informer) => !relisted().has(informer))
          .map((informer) => `${informer} not re-listed`),
      ]
        .filter(Boolean)
        .join('; ');
    await expect.poll(lag, { timeout: BOUND_MS, interval: 250 }).toBe('');
    const caughtUpMs = Date.now() - backAt;
    console.log(
      `every pool reconciled ${caughtUpMs} ms after the API server was back (etcd compacted at ${compactedAt})`,
    );
    expect(caughtUpMs).toBeLessThan(BOUND_MS);
    const metrics = await (await fetch(`${operator.addresses.metrics}/metrics`)).text();
    expect(metrics).toMatch(/^workerpool_informer_relists_total\{informer="workerpools"\} [1-9]/m);
    expect(metrics).toMatch(/^workerpool_informer_relists_total\{informer="deployments"\} [1-9]/m);

    // And the Deployment watch is live again, not just re-listed once: a hand deletion is put back.
    await apps.deleteNamespacedDeployment({ name: 'edited-after', namespace: NAMESPACE });
    await expect.poll(async () => (await deployment('edited-after')) !== undefined, { timeout: 10_000 }).toBe(true);
  }, 180_000);
});
