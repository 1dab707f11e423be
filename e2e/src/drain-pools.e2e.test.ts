import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION } from '@workerpool/operator/api/workerpool-schema';
import { DEFAULT_KEY_PREFIX, queueKeys } from '@workerpool/worker-runtime/protocol';
import { enqueueWork, exampleNativePool } from './harness/e2e-pool.ts';
import { startScenario, type Scenario } from './harness/scenario.ts';

// Drain before delete on real pods (issue 20 item 5): six native workers, each always running a
// 20 s job, and the pool taken down one replica at a time to one. With drain, the operator quiets
// the pod it chose, waits for its job to finish and only then removes it: no job is interrupted
// and every job runs exactly once. With drain off, the ReplicaSet removes busy pods, and their
// workers (grace 8 s, so a 3 s drain) hand the cut jobs back to run again: counted and printed.
//
// The steps are pins (spec.replicas), lowered as soon as the previous step's pod is gone: the
// engine's own scale-down follows the same path (decision -> drain stage -> reconciler), and a
// pin makes five scale-downs fit the CI budget without waiting out stabilization windows.

let scenario: Scenario | undefined;
let producer: Redis | undefined;
afterEach(async () => {
  await producer?.quit();
  producer = undefined;
  await scenario?.close();
  scenario = undefined;
});

const JOB_MS = 20_000;
const START_REPLICAS = 6;
const GRACE_SECONDS = 8;
const QUEUE = 'drain-native';

interface Outcome {
  interrupted: number;
  /** Job ids with other than exactly one finished run. */
  notOnce: string[];
  scaleDowns: number;
}

async function stepDown(drain: boolean): Promise<Outcome> {
  scenario = await startScenario();
  const s = scenario;
  const watch = s.watch(QUEUE);
  const pool = exampleNativePool(s.namespace, QUEUE, s.redis.url, {
    recordPrefix: s.evidence.prefix,
    replicas: START_REPLICAS,
    scaling: { minReplicas: 1, maxReplicas: START_REPLICAS, concurrency: 1, pollIntervalSeconds: 1 },
    // Longer than a job: a quieted pod always finishes. The grace period stays short, as in a pool
    // whose jobs outlast it: that is when drain before delete matters.
    drain: { enabled: drain, deadlineSeconds: 60 },
  });
  pool.spec.template!.spec!.terminationGracePeriodSeconds = GRACE_SECONDS;
  await watch.create(pool);
  await expect
    .poll(async () => (await watch.readyPods()).length, { timeout: 120_000, interval: 1_000 })
    .toBe(START_REPLICAS);

  // Keep one job waiting at all times, so that every serving pod is always in the middle of one.
  const ids: string[] = [];
  const redis = new Redis(s.redis.url);
  producer = redis;
  const wait = queueKeys(DEFAULT_KEY_PREFIX, QUEUE).wait;
  let producing = true;
  const feeding = (async () => {
    while (producing) {
      if ((await redis.llen(wait)) === 0) ids.push(...(await enqueueWork(s.redis.url, QUEUE, 1, JOB_MS)));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  await expect
    .poll(async () => (await s.evidence.started()).size, { timeout: 30_000, interval: 500 })
    .toBeGreaterThanOrEqual(START_REPLICAS);

  const custom = s.kubeConfig.makeApiClient(CustomObjectsApi);
  const pin = (replicas: number) =>
    custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: s.namespace,
        name: QUEUE,
        body: { spec: { replicas } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const livePods = async () => (await watch.pods()).filter((pod) => !pod.metadata?.deletionTimestamp).length;
  let scaleDowns = 0;
  for (let replicas = START_REPLICAS - 1; replicas >= 1; replicas -= 1) {
    await pin(replicas);
    // A drained pod goes once its 20 s job ends: up to a job, a heartbeat and a poll.
    await expect.poll(livePods, { timeout: 45_000, interval: 500 }).toBe(replicas);
    scaleDowns += 1;
  }
  producing = false;
  await feeding;
  await expect.poll(() => s.evidence.unfinished(ids), { timeout: 90_000, interval: 1_000 }).toEqual([]);

  const [started, finished] = [await s.evidence.started(), await s.evidence.finished()];
  const interrupted = await s.evidence.interrupted();
  const notOnce = ids.filter((id) => finished.get(id) !== 1 || started.get(id) !== 1);
  console.log(
    `drain before delete ${drain ? 'on' : 'off'}: ${ids.length} jobs of ${JOB_MS / 1000} s, ${scaleDowns} scale-downs, interrupted runs: ${interrupted}, jobs not run exactly once: ${notOnce.length}`,
  );
  return { interrupted, notOnce, scaleDowns };
}

describe('scaling a native pool down in steps while every pod runs a 20 s job', () => {
  it('drains each pod before removing it: no job interrupted, every job run exactly once', async () => {
    const outcome = await stepDown(true);
    expect(outcome).toEqual({ interrupted: 0, notOnce: [], scaleDowns: 5 });
    const status = (await scenario!.watch(QUEUE).pool()).status;
    expect(status?.conditions?.find((c) => c.type === 'IdleFirstScaleDown')?.reason).toBe('DrainBeforeDelete');
    // The drain deadline (60 s) outlasts the grace period (8 s): status warns, naming both.
    const grace = status?.conditions?.find((c) => c.type === 'GracePeriod');
    expect([grace?.status, grace?.reason]).toEqual(['False', 'GracePeriodTooShort']);
    expect(grace?.message).toContain('terminationGracePeriodSeconds 8s is shorter than the drain deadline of 60s');
    expect(await scenario!.watch(QUEUE).events()).toContainEqual(expect.stringMatching(/removing drained pod/));
  });

  it('with drain off, removes busy pods: the interrupted runs are counted (and every job still done)', async () => {
    const outcome = await stepDown(false);
    expect(outcome.scaleDowns).toBe(5);
    expect(outcome.interrupted).toBeGreaterThanOrEqual(0); // printed above: the number the note reports
  });
});
