import { AppsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type Condition, type WorkerPool } from '@workerpool/operator/api/workerpool-schema';
import type { RunningOperator } from '@workerpool/operator/operator';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { startOperatorForNamespace } from '@workerpool/operator/testing/operator-under-test';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '../harness/cluster.ts';
import { argoHealth, luaLiteral } from './argocd-health.ts';

// Argo CD's view of a WorkerPool: manifests/argocd/health.lua run by a real Lua 5.1 against real
// objects read back from the API server, first with hand-set statuses (one per health state),
// then with the statuses the operator itself writes.

const kubeConfig = testKubeConfig();
const apps = kubeConfig.makeApiClient(AppsV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const POLL = { timeout: 20_000, interval: 100 };

const ref = (namespace: string, name: string) => ({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name });
const getPool = async (namespace: string, name: string) => (await custom.getNamespacedCustomObject(ref(namespace, name))) as WorkerPool;

const condition = (type: string, status: Condition['status'], reason: string, message: string): Condition => ({
  type,
  status,
  reason,
  message,
  observedGeneration: 1,
  lastTransitionTime: '2026-11-23T10:00:00Z',
});

describe('the Lua driver', () => {
  it('turns JSON into the Lua table Argo CD would hand the script, quotes and all', () => {
    expect(luaLiteral({ a: [1, 'x"y\\z\n'], b: null, c: true })).toBe('{["a"] = {1, "x\\"y\\\\z\\10"}, ["c"] = true}');
  });
});

describe('health.lua on WorkerPools with each kind of status', () => {
  let namespace: TestNamespace;
  beforeAll(async () => {
    namespace = await createTestNamespace(kubeConfig);
  });
  afterAll(async () => {
    await namespace?.delete();
  });

  /** A real WorkerPool with this status written through the status subresource, as Argo CD would read it. */
  async function livePool(name: string, status: WorkerPool['status'], spec: Partial<WorkerPool['spec']> = {}): Promise<WorkerPool> {
    const pool = templatePool(namespace.name, name);
    Object.assign(pool.spec, spec);
    await custom.createNamespacedCustomObject({ ...ref(namespace.name, ''), body: pool });
    if (status) await custom.patchNamespacedCustomObjectStatus({ ...ref(namespace.name, name), body: { status } }, mergePatch);
    return getPool(namespace.name, name);
  }

  const cases: { name: string; status: WorkerPool['status']; spec?: Partial<WorkerPool['spec']>; expected: { status: string; message: string | RegExp } }[] = [
    {
      name: 'available',
      status: { observedGeneration: 1, conditions: [condition('Ready', 'True', 'Available', '3 of 3 replicas available')] },
      expected: { status: 'Healthy', message: 'Available: 3 of 3 replicas available' },
    },
    {
      name: 'scaled-to-zero',
      status: { observedGeneration: 1, conditions: [condition('Ready', 'True', 'ScaledToZero', 'no replicas needed')] },
      expected: { status: 'Healthy', message: 'ScaledToZero: no replicas needed' },
    },
    {
      name: 'rolling-out',
      status: {
        observedGeneration: 1,
        conditions: [condition('Ready', 'False', 'RollingOut', 'rolling out: 1 of 3 replicas updated'), condition('Reconciling', 'True', 'RollingOut', 'rolling out: 1 of 3 replicas updated')],
      },
      expected: { status: 'Progressing', message: 'RollingOut: rolling out: 1 of 3 replicas updated' },
    },
    {
      name: 'not-yet-observed',
      status: { observedGeneration: 0, conditions: [condition('Ready', 'True', 'Available', '3 of 3 replicas available')] },
      expected: { status: 'Progressing', message: 'Waiting for the operator to observe generation 1' },
    },
    {
      name: 'no-status',
      status: undefined,
      expected: { status: 'Progressing', message: 'Waiting for the operator to observe generation 1' },
    },
    {
      name: 'stalled',
      status: {
        observedGeneration: 1,
        conditions: [
          condition('Ready', 'False', 'ScaleTargetNotFound', 'Deployment billing/sidekiq named in spec.scaleTargetRef does not exist'),
          condition('Stalled', 'True', 'ScaleTargetNotFound', 'Deployment billing/sidekiq named in spec.scaleTargetRef does not exist'),
          // Stalled wins over Reconciling, as in kstatus.
          condition('Reconciling', 'True', 'Scaling', 'scaling to 3 replicas: 0 available'),
        ],
      },
      expected: { status: 'Degraded', message: 'ScaleTargetNotFound: Deployment billing/sidekiq named in spec.scaleTargetRef does not exist' },
    },
    {
      name: 'paused',
      // Paused wins even over an unobserved edit: the pool is frozen on purpose.
      status: { observedGeneration: 0, conditions: [condition('Ready', 'True', 'Paused', 'paused at 3 replicas')] },
      spec: { paused: true },
      expected: { status: 'Suspended', message: /spec\.paused is true/ },
    },
    {
      name: 'ready-false-alone',
      status: { observedGeneration: 1, conditions: [condition('Ready', 'False', 'Scaling', 'scaling to 4 replicas: 2 available')] },
      expected: { status: 'Progressing', message: 'Not ready: Scaling: scaling to 4 replicas: 2 available' },
    },
  ];

  it.each(cases)('$name → $expected.status', async ({ name, status, spec, expected }) => {
    const live = await livePool(name, status, spec);
    const health = argoHealth(live);
    expect(health.status).toBe(expected.status);
    if (typeof expected.message === 'string') expect(health.message).toBe(expected.message);
    else expect(health.message).toMatch(expected.message);
  });

  it('a pool being deleted → Progressing', async () => {
    const live = await livePool('terminating', { observedGeneration: 1, conditions: [condition('Ready', 'True', 'Available', 'ok')] });
    // What Argo CD reads while a finalizer holds the object: deletionTimestamp set.
    const deleting = { ...live, metadata: { ...live.metadata, deletionTimestamp: new Date('2026-11-23T10:05:00Z') } };
    expect(argoHealth(JSON.parse(JSON.stringify(deleting)))).toEqual({ status: 'Progressing', message: 'Pending deletion' });
  });
});

describe('health.lua on the statuses the operator writes', () => {
  let namespace: TestNamespace;
  let operator: RunningOperator;
  beforeAll(async () => {
    namespace = await createTestNamespace(kubeConfig);
    operator = await startOperatorForNamespace(kubeConfig, namespace.name);
  });
  afterAll(async () => {
    await operator?.stop();
    await namespace?.delete();
  });

  const healthOf = async (name: string) => argoHealth(await getPool(namespace.name, name)).status;

  it('follows a pool from Progressing to Healthy to Suspended', async () => {
    await custom.createNamespacedCustomObject({ ...ref(namespace.name, ''), body: templatePool(namespace.name, 'mailers', { scaling: { minReplicas: 2 } }) });
    await expect.poll(() => healthOf('mailers'), POLL).toBe('Progressing');
    // Play kube-controller-manager: the rollout completes.
    await expect.poll(() => apps.readNamespacedDeployment({ namespace: namespace.name, name: 'mailers' }).catch(() => undefined), POLL).toBeDefined();
    const deployment = await apps.readNamespacedDeployment({ namespace: namespace.name, name: 'mailers' });
    await apps.patchNamespacedDeploymentStatus(
      {
        namespace: namespace.name,
        name: 'mailers',
        body: { status: { observedGeneration: deployment.metadata?.generation, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 } },
      },
      mergePatch,
    );
    await expect.poll(() => healthOf('mailers'), POLL).toBe('Healthy');
    await custom.patchNamespacedCustomObject({ ...ref(namespace.name, 'mailers'), body: { spec: { paused: true } } }, mergePatch);
    await expect.poll(() => healthOf('mailers'), POLL).toBe('Suspended');
  });

  it('shows Degraded for a pool whose scale target does not exist', async () => {
    const pool = templatePool(namespace.name, 'orphan');
    delete pool.spec.template;
    pool.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'missing' };
    await custom.createNamespacedCustomObject({ ...ref(namespace.name, ''), body: pool });
    await expect.poll(() => healthOf('orphan'), POLL).toBe('Degraded');
    expect(argoHealth(await getPool(namespace.name, 'orphan')).message).toMatch(/^ScaleTargetNotFound: Deployment .*\/missing named in spec.scaleTargetRef does not exist$/);
  });
});
