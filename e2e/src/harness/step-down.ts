import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { GROUP, PLURAL, VERSION, type WorkerPool } from '@workerpool/operator/api/workerpool-schema';
import { JobEvidence, type PoolWatch } from './e2e-pool.ts';
import { startScenario, type Scenario } from './scenario.ts';

// Drain before delete's proof on real pods (issue 20 item 5), for any format: two pools of one
// format, one with drain before delete and one without, side by side in one namespace under the
// same load: every pod always in the middle of a long job, and both pools taken down one replica
// at a time, together. The steps are pins (spec.replicas), each lowered as soon as the previous
// step's pods are gone: the engine's own scale-down takes the same path (decision -> drain stage
// -> reconciler), and pins make five scale-downs fit the CI budget without waiting out
// stabilization windows. Side by side, the control pool costs no run of its own.

/** One pool of the proof, as its format builds it. */
export interface StepDownPool {
  /** The pool, pinned to `from` replicas, one job at a time per pod, recording under `evidence.prefix`. */
  pool: WorkerPool;
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

interface StepDownLoad extends StepDownPool {
  label: string;
  evidence: JobEvidence;
}

export interface DrainProof {
  /** Names the runs in the lines printed, e.g. "native (20 s jobs)". */
  format: string;
  /** Pods each pool starts with; it is taken down to one. */
  from: number;
  /** The pool of the format with drain on or off, in the scenario's namespace, recording under `evidence.prefix`. */
  build(s: Scenario, drain: boolean, evidence: JobEvidence): StepDownPool;
  /** The format's own checks of the drain-on pool, made before the scenario closes. */
  also?(drainOn: PoolWatch): Promise<void>;
}

/**
 * The proof for one format, in a scenario of its own: a pool with drain before delete and one
 * without, stepped down from `from` replicas to one side by side. With drain no run is cut short
 * and every job runs exactly once; without, the ReplicaSet's own choice cuts runs short (at least
 * one: were none cut there, the zero with drain would prove nothing), and every job is still done
 * in the end. Prints both pools' counts.
 */
export async function expectDrainBeforeDeleteProof(proof: DrainProof): Promise<void> {
  const s = await startScenario();
  const offEvidence = new JobEvidence(s.redis.url);
  try {
    const label = (drain: boolean) => `${proof.format}, drain before delete ${drain ? 'on' : 'off'}`;
    const on = { ...proof.build(s, true, s.evidence), evidence: s.evidence, label: label(true) };
    const off = { ...proof.build(s, false, offEvidence), evidence: offEvidence, label: label(false) };
    const [onOutcome, offOutcome] = await stepDownTogether(s, proof.from, [on, off]);
    if (!onOutcome || !offOutcome) throw new Error('step-down returned no outcome for a pool');
    expect({
      interrupted: onOutcome.interrupted,
      notOnce: onOutcome.notOnce,
      scaleDowns: onOutcome.scaleDowns,
    }).toEqual({ interrupted: 0, notOnce: [], scaleDowns: proof.from - 1 });
    const drainOn = s.watch(on.pool.metadata.name ?? '');
    const status = (await drainOn.pool()).status;
    expect(status?.conditions?.find((c) => c.type === 'IdleFirstScaleDown')?.reason).toBe('DrainBeforeDelete');
    expect(offOutcome.scaleDowns).toBe(proof.from - 1);
    expect(offOutcome.interrupted).toBeGreaterThan(0);
    await proof.also?.(drainOn);
  } finally {
    await offEvidence.close();
    await s.close();
  }
}

async function stepDownTogether(s: Scenario, from: number, loads: StepDownLoad[]): Promise<StepDownOutcome[]> {
  const named = loads.map((load) => ({ ...load, name: load.pool.metadata.name ?? '' }));
  const watches = named.map((load) => s.watch(load.name));
  for (const [i, load] of named.entries()) await watches[i]?.create(load.pool);
  await expect
    .poll(async () => Promise.all(watches.map(async (watch) => (await watch.readyPods()).length)), {
      timeout: 180_000,
      interval: 1_000,
    })
    .toEqual(named.map(() => from));

  // One job always waits in each pool's queue, so that every serving pod is always in the middle of one.
  const ids = named.map((): string[] => []);
  const redis = new Redis(s.redis.url);
  let producing = true;
  const feeding = Promise.all(
    named.map(async (load, i) => {
      while (producing) {
        if ((await load.waiting(redis)) === 0) ids[i]?.push(await load.enqueueOne());
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }),
  );
  try {
    await expect
      .poll(async () => Promise.all(named.map(async (load) => (await load.evidence.started()).size >= from)), {
        timeout: 60_000,
        interval: 500,
      })
      .toEqual(named.map(() => true));

    const custom = s.kubeConfig.makeApiClient(CustomObjectsApi);
    const pin = (name: string, replicas: number) =>
      custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, plural: PLURAL, namespace: s.namespace, name, body: { spec: { replicas } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    const livePods = () =>
      Promise.all(
        watches.map(async (watch) => (await watch.pods()).filter((pod) => !pod.metadata?.deletionTimestamp).length),
      );
    let scaleDowns = 0;
    for (let replicas = from - 1; replicas >= 1; replicas -= 1) {
      await Promise.all(named.map((load) => pin(load.name, replicas)));
      // A drained pod goes once its job ends: up to a job, two heartbeats and a poll.
      await expect.poll(livePods, { timeout: 60_000, interval: 500 }).toEqual(named.map(() => replicas));
      scaleDowns += 1;
    }
    producing = false;
    await feeding;
    // Without drain the cut jobs run again, on the pods that are left.
    await expect
      .poll(async () => (await Promise.all(named.map((load, i) => load.evidence.unfinished(ids[i] ?? [])))).flat(), {
        timeout: 180_000,
        interval: 1_000,
      })
      .toEqual([]);

    const outcomes: StepDownOutcome[] = [];
    for (const [i, load] of named.entries()) {
      const jobIds = ids[i] ?? [];
      const [started, finished] = [await load.evidence.started(), await load.evidence.finished()];
      const outcome = {
        jobs: jobIds.length,
        interrupted: await load.evidence.interrupted(),
        notOnce: jobIds.filter((id) => finished.get(id) !== 1 || started.get(id) !== 1),
        scaleDowns,
      };
      console.log(
        `${load.label}: ${outcome.jobs} jobs, ${scaleDowns} scale-downs, interrupted runs: ${outcome.interrupted}, jobs not run exactly once: ${outcome.notOnce.length}`,
      );
      outcomes.push(outcome);
    }
    return outcomes;
  } finally {
    producing = false;
    await feeding.catch(() => undefined);
    redis.disconnect();
  }
}
