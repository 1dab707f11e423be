import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { parseOperatorConfig } from '@workerpool/operator/config';
import { createLogger } from '@workerpool/operator/logger';
import { startOperator } from '@workerpool/operator/operator';
import { seededRandom } from '@workerpool/operator/simulator/prng';
import { enqueueWork, exampleNativePool, PoolWatch } from '../src/harness/e2e-pool.ts';
import { installCrds } from '@workerpool/testkit/control-plane';
import { buildTestImages } from '../src/harness/images.ts';
import { startNodeCluster } from '@workerpool/testkit/kube-node';
import { startRedisServer } from '@workerpool/testkit/redis-server';

// npm run bench:reaction [-- --bursts N] — how fast the whole loop reacts to a burst on a real node,
// at pollIntervalSeconds 1. For each burst onto an idle pool at its minimum:
//   to spec.replicas   the first job lands in Redis -> the Deployment asks for more replicas
//   to pod Ready       -> the first new pod is Ready (scheduler, kubelet, image start, readiness probe)
//   to first job       -> the first job of the burst starts in a worker (the pod already running)
//   to first job on a new pod -> the first job of the burst starts on a pod the burst brought
// Beside them, KEDA's default timing (a 30 s polling interval, then the HPA's 15 s sync) computed for
// the very same landing times. Writes bench-results/reaction.json.

const burstsFlag = process.argv.indexOf('--bursts');
const BURSTS = burstsFlag > 0 ? Number(process.argv[burstsFlag + 1]) : 30;
// One pod at concurrency 2 works ~13 jobs/s of 150 ms; a new pod is Ready ~15 s after a burst
// lands. 400 jobs (~30 s of work for the pod already running) outlast that, so every burst also
// times its first job on a new pod (with 120 jobs, 24 of 30 bursts were over before one was Ready).
const BURST_JOBS = 400;
const JOB_MS = 150;
const NAMESPACE = 'default';
const POOL = 'reaction';
const RECORD_PREFIX = 'reaction:';
const SAMPLE_MS = 25;
const KEDA_POLL_SECONDS = 30;
const HPA_SYNC_SECONDS = 15;

interface BurstTiming {
  landedAtMs: number;
  toReplicasMs: number;
  toPodReadyMs: number;
  toFirstJobMs: number;
  toFirstJobOnNewPodMs: number;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(SAMPLE_MS);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const cluster = await startNodeCluster({ images: buildTestImages() });
const redis = await startRedisServer({ host: cluster.hostAddress });
const timings: BurstTiming[] = [];
try {
  installCrds(cluster);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  const operator = await startOperator(
    parseOperatorConfig({
      namespace: NAMESPACE,
      metricsBindAddress: '127.0.0.1:0',
      healthProbeBindAddress: '127.0.0.1:0',
      logLevel: 'error',
      reconcileWorkers: 2,
      identity: 'bench',
    }),
    createLogger('error'),
    { kubeConfig },
  );
  const watch = new PoolWatch(kubeConfig, NAMESPACE, POOL);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const counters = new Redis(redis.url);
  try {
    await watch.create(
      exampleNativePool(NAMESPACE, POOL, redis.url, {
        recordPrefix: RECORD_PREFIX,
        scaling: {
          minReplicas: 1,
          maxReplicas: 3,
          concurrency: 2,
          targetLatencySeconds: 5,
          pollIntervalSeconds: 1,
          podStartupSeconds: 4,
          scaleDown: { stabilizationWindowSeconds: 0 },
        },
      }),
    );
    await until(
      'the first pod Ready',
      async () => ((await watch.readyPods()).length === 1 ? true : undefined),
      120_000,
    );
    for (let burst = 0; burst < BURSTS; burst++) {
      // Idle at the minimum: one Ready pod, nothing waiting, nothing terminating.
      await until(
        'the pool idle at its minimum',
        async () =>
          (await watch.specReplicas()) === 1 &&
          (await watch.pods()).length === 1 &&
          (await watch.readyPods()).length === 1
            ? true
            : undefined,
        180_000,
      );
      await sleep(1_000 + Math.random() * 1_000); // land at a random phase of the poll
      const before = new Set((await watch.pods()).map((pod) => pod.metadata?.name));
      const landedAtMs = Date.now();
      const ids = await enqueueWork(redis.url, POOL, BURST_JOBS, JOB_MS);
      const replicasAt = await until(
        'spec.replicas to rise',
        async () => (((await watch.specReplicas()) ?? 0) > 1 ? Date.now() : undefined),
        30_000,
      );
      const podReadyAt = await until(
        'a new pod Ready',
        async () => {
          const pods = (
            await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `workerpool.dev/pool=${POOL}` })
          ).items;
          return pods.some(
            (pod) =>
              !before.has(pod.metadata?.name) &&
              pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          )
            ? Date.now()
            : undefined;
        },
        120_000,
      );
      const starts = await until(
        'the burst to be worked',
        async () => {
          const [at, pods] = [
            await counters.hmget(`${RECORD_PREFIX}startedAt`, ...ids),
            await counters.hmget(`${RECORD_PREFIX}pods`, ...ids),
          ];
          if (at.some((value) => value === null)) return undefined;
          return ids.map((_, i) => ({ at: Number(at[i]), onNewPod: !before.has(pods[i] ?? undefined) }));
        },
        120_000,
      );
      const onNewPods = starts.filter((start) => start.onNewPod).map((start) => start.at);
      const timing = {
        landedAtMs,
        toReplicasMs: replicasAt - landedAtMs,
        toPodReadyMs: podReadyAt - landedAtMs,
        toFirstJobMs: Math.min(...starts.map((start) => start.at)) - landedAtMs,
        // A burst the running pod finished alone started nothing on a new pod: NaN, left out below.
        toFirstJobOnNewPodMs: onNewPods.length > 0 ? Math.min(...onNewPods) - landedAtMs : Number.NaN,
      };
      timings.push(timing);
      console.log(
        `burst ${burst + 1}/${BURSTS}: spec.replicas ${timing.toReplicasMs} ms, pod Ready ${timing.toPodReadyMs} ms, first job ${timing.toFirstJobMs} ms, first job on a new pod ${timing.toFirstJobOnNewPodMs} ms`,
      );
    }
  } finally {
    counters.disconnect();
    await operator.stop();
  }
} finally {
  await redis.stop();
  await cluster.stop();
}

/** KEDA polls every 30 s and the HPA syncs every 15 s, each at its own phase; the burst waits for both. */
function kedaDefaultReactionMs(landedAtMs: number, pollPhaseMs: number, syncPhaseMs: number): number {
  const next = (at: number, period: number, phase: number) => phase + Math.ceil((at - phase) / period) * period;
  const polled = next(landedAtMs, KEDA_POLL_SECONDS * 1000, pollPhaseMs);
  return next(polled, HPA_SYNC_SECONDS * 1000, syncPhaseMs) - landedAtMs;
}

// KEDA's and the HPA's clocks started at some moment before the first burst: a seeded phase for each.
const random = seededRandom(20261201);
const pollPhase = timings[0]!.landedAtMs - random.next() * KEDA_POLL_SECONDS * 1000;
const syncPhase = timings[0]!.landedAtMs - random.next() * HPA_SYNC_SECONDS * 1000;
const keda = timings.map((t) => Math.round(kedaDefaultReactionMs(t.landedAtMs, pollPhase, syncPhase)));
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
};
const summarize = (all: number[]) => {
  const values = all.filter((value) => Number.isFinite(value));
  return { samples: values.length, p50: quantile(values, 0.5), p95: quantile(values, 0.95), max: Math.max(...values) };
};
const rows = {
  'to spec.replicas': summarize(timings.map((t) => t.toReplicasMs)),
  'to first new pod Ready': summarize(timings.map((t) => t.toPodReadyMs)),
  'to first job started': summarize(timings.map((t) => t.toFirstJobMs)),
  'to first job started on a new pod': summarize(timings.map((t) => t.toFirstJobOnNewPodMs)),
  'KEDA defaults, to spec.replicas (model)': summarize(keda),
};
console.log(`\nreaction to ${timings.length} bursts of ${BURST_JOBS} jobs at pollIntervalSeconds 1 (ms)\n`);
console.log(`| measure | bursts | p50 | p95 | max |\n| --- | ---: | ---: | ---: | ---: |`);
for (const [name, { samples, p50, p95, max }] of Object.entries(rows))
  console.log(`| ${name} | ${samples} | ${p50} | ${p95} | ${max} |`);
mkdirSync('bench-results', { recursive: true });
writeFileSync(
  join('bench-results', 'reaction.json'),
  JSON.stringify(
    {
      bursts: timings.length,
      burstJobs: BURST_JOBS,
      pollIntervalSeconds: 1,
      summary: rows,
      timings,
      kedaModelMs: keda,
    },
    null,
    2,
  ),
);
console.log('\nwrote bench-results/reaction.json');
process.exit(0);
