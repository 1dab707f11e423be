import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION } from '@workerpool/operator/api/workerpool-schema';
import { waitForPolls } from '@workerpool/operator/testing/loop-evidence';
import { enqueueWork, exampleNativePool } from './harness/e2e-pool.ts';
import { startScenario, type Scenario } from './harness/scenario.ts';

// Scale-down that spares busy workers, on real pods: six workers, two of them in the middle of a
// long job, and the engine takes the pool down to two. With pod-deletion-cost set from the workers'
// heartbeats the ReplicaSet controller removes the four idle pods and no job is cut short; without
// it, it removes the most recently ready pods, busy or not, and a cut job has to run again.

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

const JOB_MS = 25_000;
const POLL_SECONDS = 1;
// The worker drains for the grace period less 5 s: far shorter than a job, so a removed busy pod interrupts it.
const GRACE_SECONDS = 8;

/** Runs the story once and returns how many job runs were interrupted. */
async function scaleDownWhileTwoAreBusy(idleFirstScaleDown: boolean): Promise<number> {
  scenario = await startScenario({ idleFirstScaleDown });
  const s = scenario;
  const watch = s.watch('long-jobs');
  const pool = exampleNativePool(s.namespace, 'long-jobs', s.redis.url, {
    recordPrefix: s.evidence.prefix,
    replicas: 6, // pinned while the pods start, so that the engine decides only once the jobs run
    scaling: {
      minReplicas: 2,
      maxReplicas: 6,
      concurrency: 1,
      targetLatencySeconds: 60,
      pollIntervalSeconds: POLL_SECONDS,
      podStartupSeconds: 5,
      scaleDown: { stabilizationWindowSeconds: 3 },
    },
  });
  pool.spec.template!.spec!.terminationGracePeriodSeconds = GRACE_SECONDS;
  // This story is idle-first's, the fallback where a pool cannot drain: drain-before-delete.e2e.test.ts tells drain's.
  pool.spec.drain = { enabled: false };
  await watch.create(pool);
  await expect.poll(async () => (await watch.readyPods()).length, { timeout: 150_000, interval: 1_000 }).toBe(6);

  const ids = await enqueueWork(s.redis.url, 'long-jobs', 2, JOB_MS);
  await expect.poll(async () => (await s.evidence.started()).size, { timeout: 30_000, interval: 250 }).toBe(2);
  const busyPods = new Set((await s.evidence.pods()).values());
  expect(busyPods.size).toBe(2);
  // A worker announces a job in its heartbeat before the job runs, so the heartbeats already name
  // the two busy pods. The operator reads them at its next poll; three polls leave room for a
  // loaded machine before the engine is let loose.
  await waitForPolls(s.operator.metrics, 3);

  const custom = s.kubeConfig.makeApiClient(CustomObjectsApi);
  await custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: s.namespace,
      name: 'long-jobs',
      body: { spec: { replicas: null } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await expect.poll(() => watch.specReplicas(), { timeout: 30_000, interval: 250 }).toBe(2);
  await expect.poll(async () => (await watch.pods()).length, { timeout: 60_000, interval: 500 }).toBe(2);
  const survivors = new Set((await watch.pods()).map((pod) => pod.metadata?.name));

  await expect.poll(() => s.evidence.unfinished(ids), { timeout: 120_000, interval: 1_000 }).toEqual([]);
  const interrupted = await s.evidence.interrupted();
  console.log(
    `idle-first ${idleFirstScaleDown ? 'on' : 'off'}: busy pods ${[...busyPods].join(', ')}; survivors ${[...survivors].join(', ')}; interrupted job runs: ${interrupted}`,
  );
  if (idleFirstScaleDown) expect(survivors).toEqual(busyPods);
  return interrupted;
}

describe('scaling down a pool of real worker pods while two run long jobs', () => {
  it('removes the idle pods first when the operator sets pod-deletion-cost: no job interrupted', async () => {
    expect(await scaleDownWhileTwoAreBusy(true)).toBe(0);
    expect(
      (await scenario!.watch('long-jobs').pool()).status?.conditions?.find((c) => c.type === 'IdleFirstScaleDown')
        ?.status,
    ).toBe('True');
  });

  it('without pod-deletion-cost, removes pods without regard to their jobs (counted, and every job still done)', async () => {
    await scaleDownWhileTwoAreBusy(false); // the count is logged: which pods go is up to the ReplicaSet controller
    expect(
      (await scenario!.watch('long-jobs').pool()).status?.conditions?.find((c) => c.type === 'IdleFirstScaleDown')
        ?.reason,
    ).toBe('IdleFirstDisabled');
  });
});
