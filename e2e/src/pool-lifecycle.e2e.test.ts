import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION } from '@workerpool/operator/api/workerpool-schema';
import { waitForPolls } from '@workerpool/operator/testing/loop-evidence';
import { kubectl } from '@workerpool/testkit/cluster';
import { enqueueWork, exampleNativePool, exampleWorkerTemplate } from './harness/e2e-pool.ts';
import { containerPid } from '@workerpool/testkit/kube-node';
import { startScenario, type Scenario } from './harness/scenario.ts';

// What people do to a running pool, on real pods: pin it by hand, pause it, roll a new template
// while jobs flow, delete it; and what the world does to it: a worker killed in the middle of a job.

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

const SCALING = {
  minReplicas: 1,
  maxReplicas: 4,
  concurrency: 2,
  targetLatencySeconds: 5,
  pollIntervalSeconds: 1,
  podStartupSeconds: 5,
  scaleDown: { stabilizationWindowSeconds: 5 },
};

async function patchPool(s: Scenario, name: string, patch: object): Promise<void> {
  const custom = s.kubeConfig.makeApiClient(CustomObjectsApi);
  await custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, plural: PLURAL, namespace: s.namespace, name, body: patch },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

describe('a pool of real worker pods, handled by people', () => {
  it('follows a manual pin from `kubectl scale wp` whatever the queue says, and autoscales again when unpinned', async () => {
    scenario = await startScenario();
    const s = scenario;
    const watch = s.watch('pinned');
    await watch.create(
      exampleNativePool(s.namespace, 'pinned', s.redis.url, { recordPrefix: s.evidence.prefix, scaling: SCALING }),
    );
    await expect.poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 }).toBe(1);

    const scaled = kubectl(['scale', 'wp', 'pinned', '-n', s.namespace, '--replicas=3']);
    expect(scaled.stderr).toBe('');
    await expect.poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 }).toBe(3);
    const ids = await enqueueWork(s.redis.url, 'pinned', 60, 500);
    await expect.poll(() => s.evidence.unfinished(ids), { timeout: 90_000, interval: 1_000 }).toEqual([]);
    expect(await watch.specReplicas()).toBe(3); // a backlog came and went; the pin held

    await patchPool(s, 'pinned', { spec: { replicas: null } });
    await expect.poll(() => watch.specReplicas(), { timeout: 60_000, interval: 1_000 }).toBe(1);
  });

  it('holds a paused pool while its queue backs up, and scales it when resumed', async () => {
    scenario = await startScenario();
    const s = scenario;
    const watch = s.watch('paused');
    await watch.create(
      exampleNativePool(s.namespace, 'paused', s.redis.url, { recordPrefix: s.evidence.prefix, scaling: SCALING }),
    );
    await expect.poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 }).toBe(1);
    await patchPool(s, 'paused', { spec: { paused: true } });
    await expect
      .poll(async () => (await watch.pool()).status?.conditions?.find((c) => c.type === 'Ready')?.reason, {
        timeout: 15_000,
        interval: 500,
      })
      .toBe('Paused');

    const ids = await enqueueWork(s.redis.url, 'paused', 80, 1_000);
    await waitForPolls(s.operator.metrics, 6); // six polls with a backlog
    expect(await watch.specReplicas()).toBe(1);

    await patchPool(s, 'paused', { spec: { paused: false } });
    await expect.poll(() => watch.specReplicas(), { timeout: 15_000, interval: 500 }).toBeGreaterThan(1);
    await expect.poll(() => s.evidence.unfinished(ids), { timeout: 120_000, interval: 1_000 }).toEqual([]);
  });

  it('rolls the Deployment on a template edit while jobs keep flowing, and loses none', async () => {
    scenario = await startScenario();
    const s = scenario;
    const watch = s.watch('rolling');
    await watch.create(
      exampleNativePool(s.namespace, 'rolling', s.redis.url, {
        recordPrefix: s.evidence.prefix,
        scaling: { ...SCALING, minReplicas: 2 },
      }),
    );
    await expect.poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 }).toBe(2);
    const before = new Set((await watch.pods()).map((pod) => pod.metadata?.name));

    const ids: string[] = [];
    let producing = true;
    const producer = (async () => {
      while (producing) {
        ids.push(...(await enqueueWork(s.redis.url, 'rolling', 5, 300)));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const template = exampleWorkerTemplate(s.evidence.prefix);
    template.spec!.containers[0]!.env!.push({ name: 'RELEASE', value: 'v2' });
    await patchPool(s, 'rolling', { spec: { template } });
    // Every pod of the old template replaced by one of the new, while jobs kept landing.
    await expect
      .poll(
        async () =>
          (await watch.readyPods()).filter(
            (pod) => !before.has(pod.metadata?.name) && pod.spec?.containers[0]?.env?.some((e) => e.name === 'RELEASE'),
          ).length,
        { timeout: 120_000, interval: 1_000 },
      )
      .toBeGreaterThanOrEqual(2);
    await expect
      .poll(async () => (await watch.pods()).filter((pod) => before.has(pod.metadata?.name)).length, {
        timeout: 60_000,
        interval: 1_000,
      })
      .toBe(0);
    producing = false;
    await producer;

    expect(ids.length).toBeGreaterThan(20);
    await expect.poll(() => s.evidence.unfinished(ids), { timeout: 90_000, interval: 1_000 }).toEqual([]);
  });

  it('garbage-collects the Deployment and its pods when the WorkerPool is deleted', async () => {
    scenario = await startScenario();
    const s = scenario;
    const watch = s.watch('doomed');
    await watch.create(
      exampleNativePool(s.namespace, 'doomed', s.redis.url, {
        recordPrefix: s.evidence.prefix,
        scaling: { ...SCALING, minReplicas: 2 },
      }),
    );
    await expect.poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 }).toBe(2);

    expect(kubectl(['delete', 'wp', 'doomed', '-n', s.namespace, '--wait=true']).status).toBe(0);
    await expect
      .poll(() => kubectl(['get', 'deployment', 'doomed', '-n', s.namespace]).stderr, {
        timeout: 60_000,
        interval: 500,
      })
      .toMatch(/NotFound/);
    await expect.poll(async () => (await watch.pods()).length, { timeout: 60_000, interval: 500 }).toBe(0);
  });
});

describe('a pool of real worker pods, when a worker dies', () => {
  it('runs a job again after the container running it was SIGKILLed mid-job', async () => {
    scenario = await startScenario();
    const s = scenario;
    const watch = s.watch('crashy');
    const pool = exampleNativePool(s.namespace, 'crashy', s.redis.url, {
      recordPrefix: s.evidence.prefix,
      scaling: { ...SCALING, minReplicas: 2, maxReplicas: 2 },
    });
    // A short lease, renewed by heartbeats while a job runs, so that a dead worker's job comes back soon.
    pool.spec.template!.spec!.containers[0]!.env!.push(
      { name: 'WORKERPOOL_VISIBILITY_TIMEOUT_SECONDS', value: '6' },
      { name: 'WORKERPOOL_HEARTBEAT_INTERVAL_SECONDS', value: '1' },
    );
    await watch.create(pool);
    await expect.poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 }).toBe(2);

    const [id] = await enqueueWork(s.redis.url, 'crashy', 1, 8_000);
    await expect.poll(async () => (await s.evidence.pods()).get(id!), { timeout: 30_000, interval: 200 }).toBeDefined();
    const victimPod = (await s.evidence.pods()).get(id!)!;
    const victim = (await watch.pods()).find((pod) => pod.metadata?.name === victimPod);
    const containerId = victim?.status?.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '');
    expect(containerId).toBeTruthy();
    process.kill(containerPid(inject('nodeDir'), inject('controlPlaneAssets'), containerId!), 'SIGKILL');

    await expect
      .poll(async () => (await s.evidence.finished()).get(id!) ?? 0, { timeout: 60_000, interval: 500 })
      .toBe(1);
    expect((await s.evidence.started()).get(id!)).toBe(2); // the killed run, and the one that finished
    // The kubelet restarted the killed container: the pool is whole again.
    await expect
      .poll(
        async () =>
          (await watch.pods()).find((pod) => pod.metadata?.name === victimPod)?.status?.containerStatuses?.[0]
            ?.restartCount,
        { timeout: 60_000, interval: 500 },
      )
      .toBe(1);
  });
});
