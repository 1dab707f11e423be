import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { drainRequestKey, queueKeys } from '@workerpool/worker-runtime/protocol';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import { templatePool } from '../testing/fixtures.ts';
import { metricTotal } from '../testing/metric-total.ts';
import { OPERATOR_POLL, mergePatch, useOperatorNamespace } from '../testing/operator-namespace.ts';
import { beatAsWorkers, type PodWorker } from '../testing/worker-heartbeats.ts';
import { Reason } from './conditions.ts';
import { DRAINED_POD_COST } from './drained-scale-down.ts';
import { POD_DELETION_COST } from './kube-client.ts';
import { POOL_LABEL } from './labels.ts';
import { EventReason } from './reconcile-plan.ts';

// A drained scale-down held by a pod that is not ready, on the real API server. This harness runs
// no ReplicaSet controller and no kubelet, so the test makes the pool's three pods itself (with
// the pool's labels, bound to a node, their status written as a kubelet would) and writes the
// heartbeats a worker in each would write. One pod never becomes ready: the ReplicaSet would
// remove it before the drained one, so replicas must wait, and people must hear of it once, not
// on every 2 s retry.

const ns = useOperatorNamespace({ redis: {} });
const { core } = ns;
const POLL = { ...OPERATOR_POLL, timeout: 30_000 };
const PODS = ['workers-a', 'workers-b', 'workers-c'];

/** What a kubelet would report for a pod whose container started and passed its readiness probe. */
const markReady = (name: string) =>
  core.patchNamespacedPodStatus(
    {
      namespace: ns.name,
      name,
      body: {
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date() }],
        },
      },
    },
    mergePatch,
  );

const reconciles = () => metricTotal(ns.operator.metrics.reconcileTotal);
const beat = (keyPrefix: string, pods: Record<string, PodWorker>) =>
  beatAsWorkers(ns.redis.url, keyPrefix, 'jobs', pods);
const heldEvents = async () =>
  (await ns.events('workers')).filter((event) => event.reason === EventReason.DrainedScaleDownHeld);

describe('a drained scale-down held by a pod that is not ready', () => {
  it('waits, says so in status and in one Event however many retries it takes, then goes once the pod is ready', async () => {
    const keyPrefix = uniqueKeyPrefix('drain-held');
    for (const name of PODS) {
      await core.createNamespacedPod({
        namespace: ns.name,
        body: {
          metadata: { name, labels: { [POOL_LABEL]: 'workers' } },
          spec: { nodeName: 'node-1', containers: [{ name: 'worker', image: 'worker:1' }] },
        },
      });
    }
    // workers-b started its worker, but its readiness probe has not passed (and will not, for now).
    await markReady('workers-a');
    await markReady('workers-c');
    await beat(keyPrefix, {
      'workers-a': { busy: 1 },
      'workers-b': { busy: 1 },
      'workers-c': { busy: 0 },
    });
    await ns.createPool(
      templatePool(ns.name, 'workers', {
        queue: { format: 'native', names: ['jobs'], keyPrefix, redis: { url: `redis://127.0.0.1:${ns.redis.port}/0` } },
        scaling: { minReplicas: 1, maxReplicas: 3, pollIntervalSeconds: 1 },
        replicas: 3,
        drain: { enabled: true, deadlineSeconds: 600 },
      }),
    );
    await expect.poll(() => ns.replicas('workers'), POLL).toBe(3);

    // One pod fewer: the idle workers-c is asked to drain, and says it did.
    await ns.patchPool('workers', { spec: { replicas: 2 } });
    // The operator's quiet request to workers-c's worker (worker-runtime/PROTOCOL.md, "Remote drain").
    const redis = new Redis(ns.redis.url);
    try {
      const request = drainRequestKey(queueKeys(keyPrefix, 'jobs'), 'workers-c-w');
      await expect.poll(() => redis.exists(request), POLL).toBe(1);
    } finally {
      redis.disconnect();
    }
    await beat(keyPrefix, {
      'workers-a': { busy: 1 },
      'workers-b': { busy: 1 },
      'workers-c': { busy: 0, draining: true },
    });
    await expect
      .poll(async () => (await ns.condition('workers', 'Reconciling'))?.reason, POLL)
      .toBe(Reason.DrainedScaleDownHeld);
    expect((await ns.condition('workers', 'Reconciling'))?.message).toContain('pod workers-b is not scheduled');

    // The hold is retried every 2 s: wait for several passes (this operator's only pool is this
    // one, so every reconcile it counts is a pass over the held scale-down), then count.
    const from = await reconciles();
    await expect.poll(reconciles, { timeout: 30_000, interval: 200 }).toBeGreaterThanOrEqual(from + 4);
    expect(await ns.replicas('workers')).toBe(3);
    const held = await heldEvents();
    expect(held.map((event) => [event.type, event.count ?? 1])).toEqual([['Normal', 1]]);
    expect(held[0]?.message).toContain('workers-b');

    // The pod becomes ready: exactly the drained pod is made the cheapest, and replicas go down.
    await markReady('workers-b');
    await expect.poll(() => ns.replicas('workers'), POLL).toBe(2);
    const drained = await core.readNamespacedPod({ namespace: ns.name, name: 'workers-c' });
    expect(drained.metadata?.annotations?.[POD_DELETION_COST]).toBe(String(DRAINED_POD_COST));
    expect((await heldEvents()).length).toBe(1);
  });
});
