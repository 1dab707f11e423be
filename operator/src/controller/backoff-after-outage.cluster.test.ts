import { PassThrough } from 'node:stream';
import {
  AdmissionregistrationV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrds, startControlPlane, type ControlPlane } from '@workerpool/testkit/control-plane';
import { compactPastEverySeenVersion } from '@workerpool/testkit/etcd';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { GROUP, PLURAL, VERSION, type WorkerPool } from '../api/workerpool-schema.ts';
import type { RunningOperator } from '../operator.ts';
import { templatePool } from '../testing/fixtures.ts';
import { startOperatorForNamespace } from '../testing/operator-under-test.ts';

// A pool whose reconciles kept failing has backed off far (client-go's cap is 1000 s). When the
// API server comes back with its watches expired, the operator re-lists, but an unchanged pool
// brings no event: it must still be reconciled within seconds, not when its backoff runs out.
//
// The failures are real: a ValidatingAdmissionPolicy makes the API server refuse the pool's status
// writes, then is lifted. The queue's backoff starts at 60 s here, so that one or two failures
// stand for the many of a long outage, and the test needs no ten-minute outage to show it.
// A control plane of the test's own, because the API server is restarted and its store compacted.

const NAMESPACE = 'default';
const BACKOFF_MS = 60_000;
const POLICY = 'refuse-workerpool-status';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let controlPlane: ControlPlane;
let redis: RedisServer;
let operator: RunningOperator | undefined;
let kubeConfig: KubeConfig;
const logs: string[] = [];

beforeAll(async () => {
  [controlPlane, redis] = await Promise.all([startControlPlane(), startRedisServer()]);
  installCrds(controlPlane);
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
});
afterAll(async () => {
  await operator?.stop();
  await redis?.stop();
  await controlPlane?.stop();
});

const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace: NAMESPACE, name: 'stuck' };

/** Whether the API server refuses a status write of the pool now (a dry run: nothing is stored). */
async function statusWriteRefused(custom: CustomObjectsApi): Promise<boolean> {
  try {
    await custom.patchNamespacedCustomObjectStatus(
      { ...ref, body: { status: { observedGeneration: 999 } }, dryRun: 'All' },
      mergePatch,
    );
    return false;
  } catch {
    return true;
  }
}

/** Times of the operator's failed reconciles of the pool, from its own log. */
const failures = () =>
  logs
    .join('')
    .split('\n')
    .filter((line) => line.includes('reconcile failed; retrying with backoff') && line.includes(`"${NAMESPACE}/stuck"`))
    .map((line) => (JSON.parse(line) as { time: number }).time);

describe('a pool backed off by failed reconciles, when the API server comes back', () => {
  it('is reconciled within seconds of the re-list, its backoff forgotten', async () => {
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    await admission.createValidatingAdmissionPolicy({
      body: {
        metadata: { name: POLICY },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              { apiGroups: [GROUP], apiVersions: ['*'], operations: ['UPDATE'], resources: [`${PLURAL}/status`] },
            ],
          },
          validations: [{ expression: 'false', message: 'status writes refused by the test' }],
        },
      },
    });
    await admission.createValidatingAdmissionPolicyBinding({
      body: { metadata: { name: POLICY }, spec: { policyName: POLICY, validationActions: ['Deny'] } },
    });
    await custom.createNamespacedCustomObject({
      ...ref,
      body: templatePool(NAMESPACE, 'stuck', {
        queue: { format: 'native', names: ['stuck'], redis: { url: redis.url } },
      }),
    });
    await expect.poll(() => statusWriteRefused(custom), { timeout: 20_000, interval: 250 }).toBe(true);

    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    operator = await startOperatorForNamespace(kubeConfig, NAMESPACE, {
      logStream,
      reconcileBackoff: { baseDelayMs: BACKOFF_MS, maxDelayMs: 1000_000, perSecond: 10, burst: 100 },
    });
    await expect.poll(() => failures().length, { timeout: 20_000 }).toBeGreaterThan(0);
    const firstFailureAt = failures()[0] ?? 0;

    await admission.deleteValidatingAdmissionPolicyBinding({ name: POLICY });
    await expect.poll(() => statusWriteRefused(custom), { timeout: 20_000, interval: 250 }).toBe(false);
    const reconciled = async () => {
      const pool = (await custom.getNamespacedCustomObject(ref)) as WorkerPool;
      return pool.status?.observedGeneration === pool.metadata.generation;
    };
    expect(await reconciled()).toBe(false); // still backing off
    await controlPlane.restartApiServer(async () => {
      await compactPastEverySeenVersion(controlPlane.etcdUrl);
    });
    const backAt = Date.now();
    await expect.poll(reconciled, { timeout: 15_000, interval: 250 }).toBe(true);
    const caughtUpAt = Date.now();
    console.log(
      `reconciled ${caughtUpAt - backAt} ms after the API server was back, ${caughtUpAt - firstFailureAt} ms after its first failure (${failures().length} failures; backoff ${BACKOFF_MS} ms)`,
    );
    // Reconciled by the re-list, not by the backoff running out.
    expect(caughtUpAt - firstFailureAt).toBeLessThan(BACKOFF_MS);
  }, 120_000);
});
