import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AppsV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { GROUP, PLURAL, VERSION, type WorkerPool } from '@workerpool/operator/api/workerpool-schema';
import { parseOperatorConfig } from '@workerpool/operator/config';
import { createLogger } from '@workerpool/operator/logger';
import { startOperator } from '@workerpool/operator/operator';
import { renderChart } from '@workerpool/operator/simulator/svg-chart';
import { enqueueWork, exampleWorkerTemplate } from './harness/e2e-pool.ts';
import { installCrds } from '@workerpool/testkit/control-plane';
import { buildTestImages } from './harness/images.ts';
import { startNodeCluster } from '@workerpool/testkit/kube-node';
import { startRedisServer } from '@workerpool/testkit/redis-server';

// The whole loop on this machine: a real one-node cluster, Redis, the operator, the example pool of
// real worker pods, and a load generator that sends bursts. The view below is redrawn every second;
// Ctrl-C stops everything cleanly and writes a chart of the session.

const root = join(import.meta.dirname, '..', '..');
const POOL = 'mailers';
const QUEUE = 'mailers';
const RECORD_PREFIX = 'playground:';
const chartPath = join(tmpdir(), `workerpool-playground-${new Date().toISOString().replace(/[:.]/g, '-')}.svg`);

console.log(
  'playground: building images and starting a one-node cluster (a minute or two; the first run builds the base images)',
);
const cluster = await startNodeCluster({ images: buildTestImages() });
const redis = await startRedisServer({ host: cluster.hostAddress });
const closers: Array<() => Promise<void>> = [() => cluster.stop(), () => redis.stop()];
installCrds(cluster);

const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(cluster.kubeconfigPath);
const operator = await startOperator(
  parseOperatorConfig({
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '127.0.0.1:0',
    logLevel: 'warn',
    reconcileWorkers: 4,
    identity: 'playground',
  }),
  createLogger('warn', process.stderr),
  { kubeConfig },
);
closers.push(() => operator.stop());

// The shipped example, pointed at this Redis and at the example worker image the harness built.
const example = parse(
  readFileSync(join(root, 'manifests', 'examples', 'native-workerpool.yaml'), 'utf8'),
) as WorkerPool;
example.spec.template = exampleWorkerTemplate(RECORD_PREFIX);
example.spec.queue.redis.url = redis.url;
// A shorter scale-down window than the default, so that a session of a few minutes shows the pool
// shrinking between bursts as well as growing on them.
example.spec.scaling = {
  ...example.spec.scaling,
  maxReplicas: 6,
  concurrency: 4,
  targetLatencySeconds: 10,
  pollIntervalSeconds: 1,
  podStartupSeconds: 5,
  scaleToZeroAfterSeconds: 60,
  scaleDown: { ...example.spec.scaling.scaleDown, stabilizationWindowSeconds: 20 },
};
cluster.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(example));

interface Sample {
  atSeconds: number;
  depth: number;
  oldestAgeSeconds: number | undefined;
  desired: number;
  ready: number;
  busy: number | undefined;
  donePerSecond: number;
  enqueued: number;
  reason: string;
}

const apps = kubeConfig.makeApiClient(AppsV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const counters = new Redis(redis.url);
const startedAt = Date.now();
const samples: Sample[] = [];
let enqueuedSinceSample = 0;
let lastDone = 0;

/** Bursts of 100–400 jobs of 300 ms every 45 s, with a trickle of one job a second between them. */
async function generateLoad(signal: AbortSignal): Promise<void> {
  let tick = 0;
  while (!signal.aborted) {
    const burst = tick % 45 === 5 ? 100 + Math.floor(Math.random() * 300) : 1;
    await enqueueWork(redis.url, QUEUE, burst, 300).catch(() => []);
    enqueuedSinceSample += burst;
    tick++;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

async function gauge(
  name: 'queueDepth' | 'queueOldestJobAgeSeconds' | 'queueBusy' | 'desiredReplicas',
): Promise<number | undefined> {
  const values = (await operator.metrics[name].get()).values;
  return values.find((value) => value.labels['pool'] === POOL)?.value;
}

async function sample(): Promise<Sample> {
  const [deployment, pool, done] = await Promise.all([
    apps.readNamespacedDeployment({ name: POOL, namespace: 'default' }).catch(() => undefined),
    custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: 'default',
      name: POOL,
    }) as Promise<WorkerPool>,
    counters.get(`${RECORD_PREFIX}done`).then(Number),
  ]);
  const doneNow = done - lastDone;
  lastDone = done;
  const enqueued = enqueuedSinceSample;
  enqueuedSinceSample = 0;
  return {
    atSeconds: (Date.now() - startedAt) / 1000,
    depth: (await gauge('queueDepth')) ?? 0,
    oldestAgeSeconds: await gauge('queueOldestJobAgeSeconds'),
    desired: (await gauge('desiredReplicas')) ?? deployment?.spec?.replicas ?? 0,
    ready: deployment?.status?.readyReplicas ?? 0,
    busy: await gauge('queueBusy'),
    donePerSecond: doneNow,
    enqueued,
    reason: pool.status?.lastScaleReason ?? '',
  };
}

function draw(latest: Sample): void {
  const rows = [
    ['queue depth', String(latest.depth)],
    [
      'oldest job age',
      latest.oldestAgeSeconds === undefined
        ? '-'
        : `${latest.oldestAgeSeconds.toFixed(1)} s (target ${example.spec.scaling.targetLatencySeconds} s)`,
    ],
    ['replicas desired / ready', `${latest.desired} / ${latest.ready}`],
    ['busy workers', latest.busy === undefined ? '-' : String(latest.busy)],
    ['jobs done per second', String(latest.donePerSecond)],
    ['last scale reason', latest.reason || '-'],
  ];
  const lines = [
    `workerpool-operator playground — ${Math.round(latest.atSeconds)} s — pool default/${POOL}, bursts every 45 s`,
    '',
    ...rows.map(([label, value]) => `  ${label!.padEnd(26)} ${value}`),
    '',
    `  export KUBECONFIG=${cluster.kubeconfigPath}`,
    `  ${join(cluster.assets, 'kubectl')} get wp,deploy,pods`,
    `  Ctrl-C stops everything and writes the chart to ${chartPath}`,
  ];
  if (process.stdout.isTTY) process.stdout.write(`\x1b[H\x1b[2J${lines.join('\n')}\n`);
  else
    console.log(
      `${Math.round(latest.atSeconds)}s depth=${latest.depth} desired=${latest.desired} ready=${latest.ready} busy=${latest.busy ?? '-'} done/s=${latest.donePerSecond} ${latest.reason}`,
    );
}

function writeChart(): void {
  const duration = Math.max(1, (Date.now() - startedAt) / 1000);
  const series = (name: string, pick: (s: Sample) => number) => ({
    name,
    points: samples.map((s) => ({ atSeconds: s.atSeconds, replicas: pick(s) })),
  });
  writeFileSync(
    chartPath,
    renderChart({
      title: `playground: default/${POOL}, ${Math.round(duration)} s`,
      durationSeconds: duration,
      load: samples.map((s) => s.enqueued),
      loadBucketSeconds: 1,
      series: [
        series('desired replicas', (s) => s.desired),
        series('ready replicas', (s) => s.ready),
        series('busy workers', (s) => s.busy ?? 0),
      ],
    }),
  );
}

const load = new AbortController();
const loadDone = generateLoad(load.signal);
const view = setInterval(() => {
  sample().then(
    (latest) => {
      samples.push(latest);
      draw(latest);
    },
    () => undefined, // the API server or Redis is busy this second: draw again on the next
  );
}, 1_000);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(view);
  load.abort();
  await loadDone;
  writeChart();
  console.log(`\nplayground: stopping; the chart of this session is ${chartPath}`);
  counters.disconnect();
  for (const close of closers.reverse())
    await close().catch((error: unknown) => console.error(`playground: ${String(error)}`));
  console.log('playground: stopped');
  process.exit(0);
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
