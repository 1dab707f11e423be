import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import { templatePool } from '../testing/fixtures.ts';
import { OPERATOR_POLL, useOperatorNamespace } from '../testing/operator-namespace.ts';
import { beatAsWorkers } from '../testing/worker-heartbeats.ts';
import { POD_DELETION_COST } from './kube-client.ts';
import { POOL_LABEL } from './labels.ts';

// Idle-first scale-down on the real API server. This harness runs no ReplicaSet controller and
// no kubelet, so the test makes the pool's six pods itself, with the pool's labels, and writes the
// heartbeats a worker in each would write. When the pool goes from 6 to 2 replicas, every pod
// must carry its busy count as pod-deletion-cost before the Deployment's replicas go down. (The
// real-node tests count the jobs a scale-down interrupts, with the ReplicaSet controller acting.)

const ns = useOperatorNamespace({ redis: {} });
const { apps, core, condition } = ns;
const POLL = { ...OPERATOR_POLL, timeout: 30_000 };

const livePods = async (pool: string): Promise<V1Pod[]> =>
  (await core.listNamespacedPod({ namespace: ns.name, labelSelector: `${POOL_LABEL}=${pool}` })).items;

describe('idle-first scale-down', () => {
  it('sets pod-deletion-cost from the heartbeats before lowering replicas, so the ReplicaSet controller keeps the busy pods', async () => {
    const keyPrefix = uniqueKeyPrefix('idle-first');
    const pool = templatePool(ns.name, 'workers', {
      queue: { format: 'native', names: ['jobs'], keyPrefix, redis: { url: `redis://127.0.0.1:${ns.redis.port}/0` } },
      scaling: { minReplicas: 1, maxReplicas: 10, pollIntervalSeconds: 1 },
      replicas: 6,
      // Idle-first, the fallback of formats without a remote quiet; drain before delete has its own tests.
      drain: { enabled: false },
    });
    const pods = [
      'workers-5d8f-a',
      'workers-5d8f-b',
      'workers-5d8f-c',
      'workers-5d8f-d',
      'workers-5d8f-e',
      'workers-5d8f-f',
    ];
    for (const name of pods) {
      await core.createNamespacedPod({
        namespace: ns.name,
        body: {
          metadata: { name, labels: { [POOL_LABEL]: 'workers' } },
          spec: { containers: [{ name: 'worker', image: 'worker:1' }] },
        },
      });
    }
    // A worker in a pod of another pool on the same queue must not be mistaken for one of ours.
    await core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: 'stranger', labels: { [POOL_LABEL]: 'other' } },
        spec: { containers: [{ name: 'worker', image: 'worker:1' }] },
      },
    });
    const busy = new Map([...pods.map((name): [string, number] => [name, 0]), ['stranger', 5]]);
    busy.set('workers-5d8f-b', 3).set('workers-5d8f-e', 1);
    await beatAsWorkers(
      ns.redis.url,
      keyPrefix,
      'jobs',
      Object.fromEntries([...busy].map(([pod, count]) => [pod, { busy: count }])),
    );

    await ns.createPool(pool);
    await expect.poll(() => ns.replicas('workers'), POLL).toBe(6);
    await expect.poll(async () => (await condition('workers', 'SignalsAvailable'))?.status, POLL).toBe('True');

    await ns.patchPool('workers', { spec: { replicas: 2 } });
    await expect.poll(() => ns.replicas('workers'), POLL).toBe(2);
    const lowered = await apps.readNamespacedDeployment({ namespace: ns.name, name: 'workers' });
    const annotated = await livePods('workers');
    expect(
      Object.fromEntries(annotated.map((pod) => [pod.metadata?.name, pod.metadata?.annotations?.[POD_DELETION_COST]])),
    ).toEqual({
      'workers-5d8f-a': '0',
      'workers-5d8f-b': '3',
      'workers-5d8f-c': '0',
      'workers-5d8f-d': '0',
      'workers-5d8f-e': '1',
      'workers-5d8f-f': '0',
    });
    expect(
      (await core.readNamespacedPod({ namespace: ns.name, name: 'stranger' })).metadata?.annotations?.[
        POD_DELETION_COST
      ],
    ).toBeUndefined();
    // One etcd orders every write: each annotation has a lower revision than the write that lowered
    // the replicas (nothing else writes this Deployment here, as no controller manager runs).
    const revision = (object: { metadata?: { resourceVersion?: string } }) =>
      BigInt(object.metadata?.resourceVersion ?? '0');
    for (const pod of annotated) expect(revision(pod)).toBeLessThan(revision(lowered));
    expect(await condition('workers', 'IdleFirstScaleDown')).toMatchObject({
      status: 'True',
      reason: 'BusyCountsReported',
    });
  });

  it('says in status that idle-first is unavailable where the format has no per-pod busy count', async () => {
    const pool = templatePool(ns.name, 'bull', {
      queue: { format: 'bullmq', names: ['emails'], redis: { url: `redis://127.0.0.1:${ns.redis.port}/0` } },
    });
    await ns.createPool(pool);
    await expect
      .poll(async () => (await condition('bull', 'IdleFirstScaleDown'))?.reason, POLL)
      .toBe('BusyCountsUnavailable');
    const unavailable = await condition('bull', 'IdleFirstScaleDown');
    expect(unavailable?.status).toBe('False');
    expect(unavailable?.message).toMatch(/^format bullmq: BullMQ records the jobs in its active list/);
  });
});
