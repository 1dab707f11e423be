import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type Condition, type WorkerPool } from '@workerpool/operator/api/workerpool-schema';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '@workerpool/testkit/cluster';
import { argoHealth } from './argocd-health.ts';
import { fluxHealth } from './flux-health.ts';

// Argo CD's view of a WorkerPool, and Flux's beside it: manifests/argocd/health.lua run in
// gopher-lua (Argo CD's VM) and kstatus (Flux's library) on real objects read back from the API
// server, with hand-set statuses, one per health state. gitops-health.cluster.test.ts does the
// same with the statuses the operator itself writes.

const kubeConfig = testKubeConfig();
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const ref = (namespace: string, name: string) => ({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name });
const getPool = async (namespace: string, name: string) =>
  (await custom.getNamespacedCustomObject(ref(namespace, name))) as WorkerPool;

const condition = (type: string, status: Condition['status'], reason: string, message: string): Condition => ({
  type,
  status,
  reason,
  message,
  observedGeneration: 1,
  lastTransitionTime: '2026-11-23T10:00:00Z',
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
  async function livePool(
    name: string,
    status: WorkerPool['status'],
    spec: Partial<WorkerPool['spec']> = {},
  ): Promise<WorkerPool> {
    const pool = templatePool(namespace.name, name);
    Object.assign(pool.spec, spec);
    await custom.createNamespacedCustomObject({ ...ref(namespace.name, ''), body: pool });
    if (status)
      await custom.patchNamespacedCustomObjectStatus({ ...ref(namespace.name, name), body: { status } }, mergePatch);
    return getPool(namespace.name, name);
  }

  const cases: {
    name: string;
    status: WorkerPool['status'];
    spec?: Partial<WorkerPool['spec']>;
    expected: { status: string; message: string | RegExp };
    flux: string;
  }[] = [
    {
      name: 'available',
      status: {
        observedGeneration: 1,
        conditions: [condition('Ready', 'True', 'Available', '3 of 3 replicas available')],
      },
      expected: { status: 'Healthy', message: 'Available: 3 of 3 replicas available' },
      flux: 'Current',
    },
    {
      name: 'scaled-to-zero',
      status: { observedGeneration: 1, conditions: [condition('Ready', 'True', 'ScaledToZero', 'no replicas needed')] },
      expected: { status: 'Healthy', message: 'ScaledToZero: no replicas needed' },
      flux: 'Current',
    },
    {
      name: 'rolling-out',
      status: {
        observedGeneration: 1,
        conditions: [
          condition('Ready', 'False', 'RollingOut', 'rolling out: 1 of 3 replicas updated'),
          condition('Reconciling', 'True', 'RollingOut', 'rolling out: 1 of 3 replicas updated'),
        ],
      },
      expected: { status: 'Progressing', message: 'RollingOut: rolling out: 1 of 3 replicas updated' },
      flux: 'InProgress',
    },
    {
      name: 'not-yet-observed',
      status: {
        observedGeneration: 0,
        conditions: [condition('Ready', 'True', 'Available', '3 of 3 replicas available')],
      },
      expected: { status: 'Progressing', message: 'Waiting for the operator to observe generation 1' },
      flux: 'InProgress',
    },
    {
      name: 'no-status',
      status: undefined,
      expected: { status: 'Progressing', message: 'Waiting for the operator to observe generation 1' },
      // kstatus calls an object without status Current: only the operator's first status write
      // (observedGeneration and Ready) makes Flux wait. gitops-health.cluster.test.ts shows it does.
      flux: 'Current',
    },
    {
      name: 'stalled',
      status: {
        observedGeneration: 1,
        conditions: [
          condition(
            'Ready',
            'False',
            'ScaleTargetNotFound',
            'Deployment billing/sidekiq named in spec.scaleTargetRef does not exist',
          ),
          condition(
            'Stalled',
            'True',
            'ScaleTargetNotFound',
            'Deployment billing/sidekiq named in spec.scaleTargetRef does not exist',
          ),
          // Stalled wins over Reconciling, as in kstatus.
          condition('Reconciling', 'True', 'Scaling', 'scaling to 3 replicas: 0 available'),
        ],
      },
      expected: {
        status: 'Degraded',
        message: 'ScaleTargetNotFound: Deployment billing/sidekiq named in spec.scaleTargetRef does not exist',
      },
      flux: 'Failed',
    },
    {
      name: 'paused',
      // Suspended is what the operator decided and reported, once it has observed the pause.
      status: { observedGeneration: 1, conditions: [condition('Ready', 'True', 'Paused', 'paused at 3 replicas')] },
      spec: { paused: true },
      expected: { status: 'Suspended', message: 'Paused: paused at 3 replicas' },
      flux: 'Current',
    },
    {
      name: 'paused-unobserved',
      // The pause is not in effect until the operator has seen it: the pool may still be scaling.
      status: {
        observedGeneration: 0,
        conditions: [condition('Ready', 'True', 'Available', '3 of 3 replicas available')],
      },
      spec: { paused: true },
      expected: { status: 'Progressing', message: 'Waiting for the operator to observe generation 1' },
      flux: 'InProgress',
    },
    {
      name: 'paused-and-pinned',
      // spec.replicas beats spec.paused in the engine, and both tools follow the operator's report.
      status: {
        observedGeneration: 1,
        conditions: [
          condition(
            'Ready',
            'True',
            'Pinned',
            'pinned to 3 replicas by spec.replicas (spec.paused has no effect while spec.replicas is set)',
          ),
        ],
      },
      spec: { paused: true, replicas: 3 },
      expected: { status: 'Healthy', message: /^Pinned: pinned to 3 replicas/ },
      flux: 'Current',
    },
    {
      name: 'ready-false-alone',
      status: {
        observedGeneration: 1,
        conditions: [condition('Ready', 'False', 'Scaling', 'scaling to 4 replicas: 2 available')],
      },
      expected: { status: 'Progressing', message: 'Not ready: Scaling: scaling to 4 replicas: 2 available' },
      // kstatus reads Ready=False as still in progress, as Argo CD's Progressing does.
      flux: 'InProgress',
    },
  ];

  it.each(cases)('$name → $expected.status (Flux: $flux)', async ({ name, status, spec, expected, flux }) => {
    const live = await livePool(name, status, spec);
    expect(fluxHealth(live).status).toBe(flux);
    const health = argoHealth(live);
    expect(health.status).toBe(expected.status);
    if (typeof expected.message === 'string') expect(health.message).toBe(expected.message);
    else expect(health.message).toMatch(expected.message);
  });

  it('a pool being deleted → Progressing', async () => {
    const live = await livePool('terminating', {
      observedGeneration: 1,
      conditions: [condition('Ready', 'True', 'Available', 'ok')],
    });
    // What Argo CD reads while a finalizer holds the object: deletionTimestamp set.
    const deleting = { ...live, metadata: { ...live.metadata, deletionTimestamp: new Date('2026-11-23T10:05:00Z') } };
    expect(argoHealth(JSON.parse(JSON.stringify(deleting)))).toEqual({
      status: 'Progressing',
      message: 'Pending deletion',
    });
    expect(fluxHealth(JSON.parse(JSON.stringify(deleting))).status).toBe('Terminating');
  });
});
