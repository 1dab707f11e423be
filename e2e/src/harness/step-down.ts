import { setTimeout as sleep } from 'node:timers/promises';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ExpectStatic } from 'vitest';
import { GROUP, PLURAL, VERSION, type WorkerPool } from '@workerpool/operator/api/workerpool-schema';
import type { WorkerPoolSpecInput } from '@workerpool/operator/api/defaults';
import { JobEvidence, type PoolWatch } from './e2e-pool.ts';
import { startScenario, type Scenario } from './scenario.ts';

// Drain before delete's proof on real pods (issue 20 item 5), for any format: two pools of one
// format, one with drain before delete and one without, side by side in one namespace under the
// same load, a load that falls in steps. Nothing pins them: once the load begins to fall, only the
// engine's own decisions take both pools from POOL_PODS replicas down to one, along the path a
// user's pool takes (decision -> drain stage -> reconciler), and only knobs a user has
// (fallingLoadScaling) keep the run short.
//
// The load: jobs of 20-30 s, arriving evenly at the rate that keeps `worth` pods' slots busy
// (worth x concurrency / 25 s), the same jobs at the same moments for both pools. A step begins
// once both engines have decided the previous one (workerpool_desired_replicas, as Prometheus
// reads it), so the load always leads the pools and the pace is the engine's own: its slow arrival
// average (45 s half-life: a job every second or two is too few to prove a faster drop), and the
// 60 s it keeps between two scale-downs unless the pool at least halves
// (SCALE_DOWN_SPACING_SECONDS, which no CRD field changes).
//
// Pods of several slots under such a load are seldom wholly idle, so the pool without drain,
// whose ReplicaSet removes the least busy pod (idle-first), cuts jobs short as a user's would;
// the pool with drain quiets that pod and removes it only once its jobs are done.

/** Pods each pool runs before the load falls (its maxReplicas); the engine takes it to one. */
export const POOL_PODS = 6;
/**
 * Pods' worth of load at each step; step k waits for both engines to be at POOL_PODS - k. First
 * above the pool's pods, so that it runs at maxReplicas with jobs queued; then down a pod and a
 * half, and about a pod more each step. From the third step the load is at most half what the
 * pods that serve it can run, which the engine follows at once (a load that went away); only the
 * second step waits out its 60 s between two scale-downs.
 */
const LOAD_STEPS = [6.3, 3.5, 2.4, 1.3, 0.5, 0.3];

/** Jobs of 20-30 s, uniform. */
const JOB_MIN_MS = 20_000;
const JOB_SPREAD_MS = 10_000;
const MEAN_JOB_SECONDS = (JOB_MIN_MS + JOB_SPREAD_MS / 2) / 1000;

/**
 * The user's knobs the proof sets, the same for both pools (with `spec.drain` the only
 * difference). Each is a CRD field a team could set on its own pool.
 */
export function fallingLoadScaling(concurrency: number): NonNullable<WorkerPoolSpecInput['scaling']> {
  return {
    // The pools start at all their pods, and minReplicas goes to 1 as the load begins to fall
    // (lowerFloors): the climb is not what this proves, and a cold Sidekiq pool with jobs this
    // long climbed for over two minutes.
    minReplicas: POOL_PODS,
    maxReplicas: POOL_PODS,
    concurrency,
    // Generous: jobs may wait, so the engine sizes pods for the load, not a pod ahead of it.
    targetLatencySeconds: 120,
    // The engine reads two polls with nothing waiting or arriving as a finished batch and at once
    // lets go every pod its running jobs do not fill (the quiet release); at 2 s polls that took
    // pools of long jobs below their load and back up between arrivals. At 5 s polls the gaps
    // (up to 4 s until the load is down to one pod's worth) never span two.
    pollIntervalSeconds: 5,
    // The steps are real, not noise: a short window. One pod per decision, so that every
    // scale-down removes one chosen pod and five of them take the pool from six to one.
    scaleDown: { stabilizationWindowSeconds: 10, policies: [{ type: 'Pods', value: 1, periodSeconds: 10 }] },
  };
}

/** One pool of the proof, as its format builds it. */
export interface FallingLoadPool {
  /** The pool, with `scaling` as given, recording under `evidence.prefix`. */
  pool: WorkerPool;
  /** Enqueues one job of `ms`; returns its id. */
  enqueue(ms: number): Promise<string>;
  /** Stops the pool's producer. */
  close(): Promise<void>;
}

export interface FallingLoadOutcome {
  jobs: number;
  /** Runs started and never finished: jobs a removed pod cut short. */
  interrupted: number;
  /** Job ids with other than exactly one started and one finished run. */
  notOnce: string[];
  /** The engine's decisions to lower the pool once the load began to fall. */
  scaleDowns: number;
  /** ...and to raise it again. */
  scaleUps: number;
}

export interface DrainProof {
  /** Names the runs in the lines printed, e.g. "native (20-30 s jobs)". */
  format: string;
  /** Jobs one pod runs at once. */
  concurrency: number;
  /** The pool of the format with drain on or off, in the scenario's namespace, with `scaling`. */
  build(
    s: Scenario,
    drain: boolean,
    evidence: JobEvidence,
    scaling: NonNullable<WorkerPoolSpecInput['scaling']>,
  ): FallingLoadPool;
  /** The format's own checks of the drain-on pool, made before the scenario closes. */
  also?(drainOn: PoolWatch, expect: ExpectStatic): Promise<void>;
}

interface ProofPool extends FallingLoadPool {
  name: string;
  label: string;
  evidence: JobEvidence;
  watch: PoolWatch;
}

/**
 * The proof for one format, in a scenario of its own: a pool with drain before delete and one
 * without, taken from POOL_PODS replicas to one by the engine as the load falls. With drain no run
 * is cut short and every job runs exactly once; without, the ReplicaSet's own choice cuts runs
 * short (at least one: were none cut there, the zero with drain would prove nothing), and every
 * job is still done in the end. Prints both pools' counts.
 */
export async function expectDrainBeforeDeleteProof(proof: DrainProof, expect: ExpectStatic): Promise<void> {
  const s = await startScenario();
  const offEvidence = new JobEvidence(s.redis.url);
  const scaling = fallingLoadScaling(proof.concurrency);
  const pools: ProofPool[] = [];
  try {
    for (const [drain, evidence] of [
      [true, s.evidence],
      [false, offEvidence],
    ] as const) {
      const built = proof.build(s, drain, evidence, scaling);
      const name = built.pool.metadata.name ?? '';
      const label = `${proof.format}, drain before delete ${drain ? 'on' : 'off'}`;
      pools.push({ ...built, name, label, evidence, watch: s.watch(name) });
    }
    const [on, off] = await fallTogether(s, proof, pools, expect);
    if (!on || !off) throw new Error('the falling load returned no outcome for a pool');
    expect({ interrupted: on.interrupted, notOnce: on.notOnce }).toEqual({ interrupted: 0, notOnce: [] });
    expect(on.scaleDowns).toBeGreaterThanOrEqual(POOL_PODS - 1);
    const drainOn = s.watch(pools[0]?.name ?? '');
    const status = (await drainOn.pool()).status;
    expect(status?.conditions?.find((c) => c.type === 'IdleFirstScaleDown')?.reason).toBe('DrainBeforeDelete');
    expect(off.scaleDowns).toBeGreaterThanOrEqual(POOL_PODS - 1);
    expect(off.interrupted).toBeGreaterThan(0);
    await proof.also?.(drainOn, expect);
  } finally {
    await Promise.all(pools.map((pool) => pool.close().catch(() => undefined)));
    await offEvidence.close();
    await s.close();
  }
}

/** The engine's latest decision for each pool, read from the operator's /metrics as Prometheus would. */
async function desiredReplicas(s: Scenario, names: readonly string[]): Promise<(number | undefined)[]> {
  const text = await (await fetch(`${s.operator.addresses.metrics}/metrics`)).text();
  return names.map((name) => {
    const match = new RegExp(
      `^workerpool_desired_replicas\\{namespace="${s.namespace}",pool="${name}"\\} (\\d+)`,
      'm',
    ).exec(text);
    return match ? Number(match[1]) : undefined;
  });
}

async function fallTogether(
  s: Scenario,
  proof: DrainProof,
  pools: ProofPool[],
  expect: ExpectStatic,
): Promise<FallingLoadOutcome[]> {
  const { concurrency } = proof;
  const from = POOL_PODS;
  const startedAtMs = Date.now();
  for (const pool of pools) await pool.watch.create(pool.pool);
  const worths = LOAD_STEPS;
  let stage = 0;
  const ids = pools.map((): string[] => []);

  // The same jobs arrive at both pools at the same moments: evenly spaced at the stage's rate.
  let producing = true;
  let feedError: Error | undefined;
  const feeding = (async () => {
    let nextAtMs = Date.now();
    while (producing) {
      while (producing && Date.now() >= nextAtMs) {
        const ms = JOB_MIN_MS + Math.random() * JOB_SPREAD_MS;
        const made = await Promise.all(pools.map((pool) => pool.enqueue(ms)));
        made.forEach((id, i) => ids[i]?.push(id));
        nextAtMs += 1000 / (((worths[stage] ?? 0) * concurrency) / MEAN_JOB_SECONDS);
      }
      await sleep(100);
    }
  })().catch((error: unknown) => {
    feedError = error instanceof Error ? error : new Error(String(error));
  });
  const stillFeeding = () => {
    if (feedError !== undefined) throw new Error(`enqueueing failed: ${feedError.message}`, { cause: feedError });
  };

  // Every change of each engine's decision, from its gauge (a missed scrape is read again a second later).
  const names = pools.map((pool) => pool.name);
  const decisions: number[][] = pools.map(() => []);
  let watching = true;
  const watchingDecisions = (async () => {
    while (watching) {
      const now = await desiredReplicas(s, names).catch(() => []);
      now.forEach((replicas, i) => {
        const seen = decisions[i];
        if (replicas !== undefined && seen && seen.at(-1) !== replicas) seen.push(replicas);
      });
      await sleep(1_000);
    }
  })();
  const latest = () => decisions.map((seen) => seen.at(-1));

  try {
    // At maxReplicas with jobs queued, and every slot turned over at least half a time, so that
    // the engine has measured how long jobs run before the load falls.
    await expect
      .poll(
        async () =>
          Promise.all(
            pools.map(
              async (pool) =>
                (await pool.watch.readyPods()).length === from &&
                (await pool.evidence.finished()).size >= (from * concurrency) / 2,
            ),
          ),
        { timeout: 180_000, interval: 1_000, message: `both pools at ${from} ready pods, having finished jobs` },
      )
      .toEqual(pools.map(() => true));
    stillFeeding();
    await lowerFloors(s, names);
    const fellAtMs = Date.now();
    console.log(
      `${proof.format}: both pools at ${from} pods, jobs measured, ${Math.round((fellAtMs - startedAtMs) / 1000)} s after they were created`,
    );
    const fallsFrom = decisions.map((seen) => Math.max(0, seen.length - 1));
    for (stage = 1; stage < worths.length; stage += 1) {
      console.log(
        `${proof.format}: at ${Math.round((Date.now() - fellAtMs) / 1000)} s the load falls to ${worths[stage]?.toFixed(1)} pods' worth; the engines decided ${latest().join(' and ')}`,
      );
      // Each step's load holds until both engines have taken a pod down for it.
      const target = from - stage;
      await until(
        () =>
          `both engines down to ${target} replicas at ${worths[stage]?.toFixed(1)} pods' worth of load (decided: ${latest().join(' and ')})`,
        150_000,
        () => {
          stillFeeding();
          return latest().every((replicas) => replicas !== undefined && replicas <= target);
        },
      );
    }
    console.log(
      `${proof.format}: both engines at one replica ${Math.round((Date.now() - fellAtMs) / 1000)} s after the load began to fall`,
    );
    producing = false;
    await feeding;
    stillFeeding();
    // The last drained pod leaves once its jobs are done; without drain the cut jobs run again.
    const livePods = () =>
      Promise.all(
        pools.map(async (pool) => (await pool.watch.pods()).filter((pod) => !pod.metadata?.deletionTimestamp).length),
      );
    await expect
      .poll(livePods, { timeout: 120_000, interval: 1_000, message: 'one pod left in each pool' })
      .toEqual(pools.map(() => 1));
    await expect
      .poll(async () => (await Promise.all(pools.map((pool, i) => pool.evidence.unfinished(ids[i] ?? [])))).flat(), {
        timeout: 120_000,
        interval: 1_000,
        message: 'every job finished',
      })
      .toEqual([]);

    const outcomes: FallingLoadOutcome[] = [];
    for (const [i, pool] of pools.entries()) {
      const jobIds = ids[i] ?? [];
      const [started, finished] = [await pool.evidence.started(), await pool.evidence.finished()];
      const falling = (decisions[i] ?? []).slice(fallsFrom[i] ?? 0);
      const steps = falling.slice(1).map((replicas, j) => replicas - (falling[j] ?? replicas));
      const outcome = {
        jobs: jobIds.length,
        interrupted: await pool.evidence.interrupted(),
        notOnce: jobIds.filter((id) => finished.get(id) !== 1 || started.get(id) !== 1),
        scaleDowns: steps.filter((step) => step < 0).length,
        scaleUps: steps.filter((step) => step > 0).length,
      };
      console.log(
        `${pool.label}: ${outcome.jobs} jobs, ${outcome.scaleDowns} scale-downs and ${outcome.scaleUps} scale-ups by the engine (${falling.join(' -> ')}), interrupted runs: ${outcome.interrupted}, jobs not run exactly once: ${outcome.notOnce.length}`,
      );
      outcomes.push(outcome);
    }
    return outcomes;
  } finally {
    producing = false;
    watching = false;
    await feeding;
    await watchingDecisions;
  }
}

/** From here on only the engine's decisions stand between each pool and one replica. */
async function lowerFloors(s: Scenario, names: readonly string[]): Promise<void> {
  const custom = s.kubeConfig.makeApiClient(CustomObjectsApi);
  await Promise.all(
    names.map((name) =>
      custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace: s.namespace,
          name,
          body: { spec: { scaling: { minReplicas: 1 } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    ),
  );
}

/** Polls `check` every second until it holds; after `timeoutMs`, fails naming what it waited for. */
async function until(what: () => string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what()}`);
    await sleep(1_000);
  }
}
