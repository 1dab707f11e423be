import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { GROUP, PLURAL, VERSION, type WorkerPool } from '@workerpool/operator/api/workerpool-schema';
import type { Scenario } from './scenario.ts';

// Drain before delete's proof on real pods (issue 20 item 5), for any format: a pool whose every
// pod is always in the middle of a long job, taken down one replica at a time. The steps are pins
// (spec.replicas), each lowered as soon as the previous step's pod is gone: the engine's own
// scale-down takes the same path (decision -> drain stage -> reconciler), and pins make five
// scale-downs fit the CI budget without waiting out stabilization windows.

export interface StepDownLoad {
  /** Names the run in the line it prints, e.g. "native, drain on". */
  label: string;
  /** The pool, pinned to `from` replicas, one job at a time per pod. */
  pool: WorkerPool;
  from: number;
  /** Jobs waiting to start now. */
  waiting(redis: Redis): Promise<number>;
  /** Enqueues one job; returns its id. */
  enqueueOne(): Promise<string>;
}

export interface StepDownOutcome {
  jobs: number;
  /** Runs started and never finished: jobs a removed pod cut short. */
  interrupted: number;
  /** Job ids with other than exactly one started and one finished run. */
  notOnce: string[];
  scaleDowns: number;
}

export async function stepDown(s: Scenario, load: StepDownLoad): Promise<StepDownOutcome> {
  const name = load.pool.metadata.name ?? '';
  const watch = s.watch(name);
  await watch.create(load.pool);
  await expect
    .poll(async () => (await watch.readyPods()).length, { timeout: 120_000, interval: 1_000 })
    .toBe(load.from);

  // One job always waits, so that every serving pod is always in the middle of one.
  const ids: string[] = [];
  const redis = new Redis(s.redis.url);
  let producing = true;
  const feeding = (async () => {
    while (producing) {
      if ((await load.waiting(redis)) === 0) ids.push(await load.enqueueOne());
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  try {
    await expect
      .poll(async () => (await s.evidence.started()).size, { timeout: 60_000, interval: 500 })
      .toBeGreaterThanOrEqual(load.from);

    const custom = s.kubeConfig.makeApiClient(CustomObjectsApi);
    const pin = (replicas: number) =>
      custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, plural: PLURAL, namespace: s.namespace, name, body: { spec: { replicas } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    const livePods = async () => (await watch.pods()).filter((pod) => !pod.metadata?.deletionTimestamp).length;
    let scaleDowns = 0;
    for (let replicas = load.from - 1; replicas >= 1; replicas -= 1) {
      await pin(replicas);
      // A drained pod goes once its job ends: up to a job, two heartbeats and a poll.
      await expect.poll(livePods, { timeout: 60_000, interval: 500 }).toBe(replicas);
      scaleDowns += 1;
    }
    producing = false;
    await feeding;
    // Without drain the cut jobs run again after the last step, one at a time on the last pod.
    await expect.poll(() => s.evidence.unfinished(ids), { timeout: 180_000, interval: 1_000 }).toEqual([]);

    const [started, finished] = [await s.evidence.started(), await s.evidence.finished()];
    const outcome = {
      jobs: ids.length,
      interrupted: await s.evidence.interrupted(),
      notOnce: ids.filter((id) => finished.get(id) !== 1 || started.get(id) !== 1),
      scaleDowns,
    };
    console.log(
      `${load.label}: ${outcome.jobs} jobs, ${scaleDowns} scale-downs, interrupted runs: ${outcome.interrupted}, jobs not run exactly once: ${outcome.notOnce.length}`,
    );
    return outcome;
  } finally {
    producing = false;
    await feeding.catch(() => undefined);
    redis.disconnect();
  }
}
