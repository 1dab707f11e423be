import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  queueKeys,
  readQueueSignals,
  DEFAULT_KEY_PREFIX,
  type QueueSignals,
} from '@workerpool/worker-runtime/protocol';
import { enqueueWork, exampleNativePool } from './harness/e2e-pool.ts';
import { containerPid } from '@workerpool/testkit/kube-node';
import { startScenario, type Scenario } from './harness/scenario.ts';

// The world is unkind to a pool at work: its worker pods die at random, by a container SIGKILL
// (OOM, a node agent), a forced pod deletion and an ordinary one (eviction, a drain). At-least-once
// delivery (worker-runtime/PROTOCOL.md) promises that no job is lost, and that a job runs twice
// only when the worker holding it died: so the duplicates must stay within what the killed
// workers held at the moment they died.

const JOBS = 100_000;
const JOB_MS = 2;
const REPLICAS = 4;
const CONCURRENCY = 16;
const KILL_EVERY_MS = 3_000;
// While workers die every 3 s most pods are starting or in restart back-off and the pool works
// ~50-150 jobs/s; between kills it works ~500-1,000 jobs/s (measured on the 2-core test machine). A
// minute of chaos, then the rest of the 100,000 at full speed, fits in about 3-4 minutes.
const CHAOS_AT_MOST_MS = 60_000;
const PROGRESS_EVERY_MS = 15_000;
// What the test proves is that no job is lost, not how fast a shared machine works them: a
// loaded run has taken four times as long as a quiet one. It fails when the queue stops moving
// (longer than a container's restart back-off after a minute of kills), or at the outer bound.
const STALLED_AFTER_MS = 90_000;
const DRAINED_AT_MOST_MS = 600_000;
/**
 * A worker holds at most `concurrency` running jobs plus, while jobs are short, `concurrency`
 * prefetched ones (worker-runtime/src/worker/prefetch.ts); finished runs stay reserved until the
 * next ack round trip, but they take the place of the slots they freed. So one kill can make at
 * most 2 × concurrency jobs run again. A graceful deletion drains and should add none.
 */
const HELD_PER_WORKER = 2 * CONCURRENCY;

type KillKind = 'container SIGKILL' | 'pod deletion, grace 0' | 'pod deletion, graceful';
const KILL_KINDS: readonly KillKind[] = ['container SIGKILL', 'pod deletion, grace 0', 'pod deletion, graceful'];

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const runningContainerId = (pod: V1Pod): string | undefined => {
  const status = pod.status?.containerStatuses?.[0];
  return status?.state?.running ? status.containerID?.replace(/^containerd:\/\//, '') : undefined;
};

class Chaos {
  readonly #core: CoreV1Api;
  readonly #s: Scenario;
  readonly #pool: string;
  readonly kills = new Map<KillKind, number>();
  /** Reservations of the whole queue just before each kill: what any victim could have held. */
  activeAtKills = 0;

  constructor(s: Scenario, pool: string) {
    this.#s = s;
    this.#pool = pool;
    this.#core = s.kubeConfig.makeApiClient(CoreV1Api);
  }

  get total(): number {
    return [...this.kills.values()].reduce((a, b) => a + b, 0);
  }

  /** Kills a random running worker every few seconds, cycling through the kinds, until `done()`. */
  async run(done: () => boolean, signals: () => Promise<QueueSignals>): Promise<void> {
    const until = Date.now() + CHAOS_AT_MOST_MS;
    for (let turn = 0; !done() && Date.now() < until;) {
      await sleep(KILL_EVERY_MS);
      const pods = (await this.#s.watch(this.#pool).readyPods()).filter((pod) => runningContainerId(pod) !== undefined);
      const victim = pods[Math.floor(Math.random() * pods.length)];
      if (victim === undefined || done()) continue;
      const kind = KILL_KINDS[turn % KILL_KINDS.length]!;
      this.activeAtKills += (await signals()).active;
      await this.#kill(kind, victim);
      this.kills.set(kind, (this.kills.get(kind) ?? 0) + 1);
      turn += 1;
    }
  }

  async #kill(kind: KillKind, pod: V1Pod): Promise<void> {
    const name = pod.metadata!.name!;
    if (kind === 'container SIGKILL')
      process.kill(containerPid(inject('nodeDir'), inject('controlPlaneAssets'), runningContainerId(pod)!), 'SIGKILL');
    else
      await this.#core.deleteNamespacedPod({
        name,
        namespace: this.#s.namespace,
        ...(kind === 'pod deletion, grace 0' ? { gracePeriodSeconds: 0 } : {}),
      });
  }
}

/** Runs beyond the first of each job: how many times a job ran again. */
function extraRuns(runs: Map<string, number>): number {
  let extra = 0;
  for (const count of runs.values()) extra += Math.max(count - 1, 0);
  return extra;
}

describe('a pool of real worker pods, while its workers are killed at random', () => {
  it(
    `works ${JOBS.toLocaleString('en')} jobs to completion, at least once each, with duplicates bounded by what the killed workers held`,
    { timeout: DRAINED_AT_MOST_MS + 180_000 },
    async () => {
      scenario = await startScenario();
      const s = scenario;
      const watch = s.watch('chaos');
      const pool = exampleNativePool(s.namespace, 'chaos', s.redis.url, {
        recordPrefix: s.evidence.prefix,
        scaling: {
          minReplicas: REPLICAS,
          maxReplicas: REPLICAS,
          concurrency: CONCURRENCY,
          targetLatencySeconds: 30,
          pollIntervalSeconds: 2,
          podStartupSeconds: 5,
        },
      });
      // A short lease renewed by heartbeats, so that a dead worker's jobs come back within seconds; and
      // room for a job to be caught in several kills without being taken for a job that kills its worker.
      pool.spec.template!.spec!.containers[0]!.env!.push(
        { name: 'WORKERPOOL_VISIBILITY_TIMEOUT_SECONDS', value: '8' },
        { name: 'WORKERPOOL_HEARTBEAT_INTERVAL_SECONDS', value: '1' },
        { name: 'WORKERPOOL_MAX_STALLS', value: '50' },
      );
      await watch.create(pool);
      await expect
        .poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 })
        .toBe(REPLICAS);

      const redis = new Redis(s.redis.url);
      const keys = queueKeys(DEFAULT_KEY_PREFIX, 'chaos');
      const signals = async () => (await readQueueSignals(redis, [keys]))[0]!;
      try {
        const startedAt = Date.now();
        const ids: string[] = [];
        for (let batch = 0; batch < JOBS / 10_000; batch++)
          ids.push(...(await enqueueWork(s.redis.url, 'chaos', 10_000, JOB_MS)));
        const enqueuedMs = Date.now() - startedAt;

        let drained = false;
        const chaos = new Chaos(s, 'chaos');
        const chaosDone = chaos.run(() => drained, signals);
        const stateAt = (now: QueueSignals) =>
          `${((Date.now() - startedAt) / 1000).toFixed(0)} s, completed ${now.completed}, waiting ${now.waiting}, delayed ${now.delayed}, active ${now.active}, kills ${chaos.total}`;
        let loggedAt = startedAt;
        let progress = { completed: -1, at: startedAt };
        for (;;) {
          const now = await signals();
          drained = now.waiting + now.delayed + now.active === 0;
          if (drained) break;
          if (now.completed > progress.completed) progress = { completed: now.completed, at: Date.now() };
          if (Date.now() - progress.at > STALLED_AFTER_MS)
            throw new Error(`chaos: no job completed for ${STALLED_AFTER_MS / 1000} s: ${stateAt(now)}`);
          if (Date.now() - startedAt > DRAINED_AT_MOST_MS)
            throw new Error(`chaos: not drained within ${DRAINED_AT_MOST_MS / 1000} s: ${stateAt(now)}`);
          if (Date.now() - loggedAt >= PROGRESS_EVERY_MS) {
            loggedAt = Date.now();
            console.log(`chaos progress: ${stateAt(now)}`);
          }
          await sleep(1_000);
        }
        await chaosDone;
        const wallMs = Date.now() - startedAt;

        const [started, finished, last] = [await s.evidence.started(), await s.evidence.finished(), await signals()];
        const duplicateRuns = extraRuns(started);
        const duplicateCompletions = extraRuns(finished);
        console.log(
          [
            `chaos: ${ids.length} jobs of ${JOB_MS} ms on ${REPLICAS} pods × ${CONCURRENCY}, enqueued in ${(enqueuedMs / 1000).toFixed(1)} s, all done in ${(wallMs / 1000).toFixed(1)} s (${Math.round(ids.length / (wallMs / 1000))} jobs/s)`,
            `kills: ${chaos.total} (${[...chaos.kills].map(([kind, n]) => `${n} ${kind}`).join(', ')}), every ${KILL_EVERY_MS / 1000} s`,
            `duplicates: ${duplicateRuns} runs started again, ${duplicateCompletions} completed twice; bound ${chaos.total} kills × ${HELD_PER_WORKER} held = ${chaos.total * HELD_PER_WORKER}; reservations of the queue at the kills: ${chaos.activeAtKills}`,
            `queue: completed counter ${last.completed}, dead letters ${last.deadLetters}, interrupted runs ${await s.evidence.interrupted()}`,
          ].join('\n'),
        );

        expect(chaos.kills.size).toBe(KILL_KINDS.length); // every kind of death happened at least once
        expect(await s.evidence.unfinished(ids)).toEqual([]);
        expect(finished.size).toBe(ids.length);
        expect(last).toMatchObject({ waiting: 0, delayed: 0, active: 0, deadLetters: 0 });
        expect(await redis.hlen(keys.jobs)).toBe(0); // no record left behind: every job was acked
        expect(duplicateRuns).toBeLessThanOrEqual(chaos.total * HELD_PER_WORKER);
      } finally {
        await redis.quit();
      }
    },
  );
});
