import { mkdirSync, writeFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { installCrds, startControlPlane } from '@workerpool/testkit/control-plane';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { GROUP, PLURAL, VERSION } from '../src/api/workerpool-schema.ts';
import { largeTemplate, templatePool } from '../src/testing/fixtures.ts';
import { spawnOperatorProcess } from '../src/testing/operator-process.ts';
import { watchReplicaRaises } from '../src/testing/replica-raises.ts';
import { gcSeconds, memoryBreakdown, type MemoryBreakdown } from './operator/memory-breakdown.ts';
import { cpuSeconds, rssMiB } from '../src/testing/process-usage.ts';
import { burst, churn, drain, type QueueLoad } from './operator/producers.ts';
import { deltaBy, parseSamples, type Sample } from './operator/prometheus-text.ts';

// npm run bench:operator — the operator as a separate process against a real kube-apiserver and
// ten real redis-servers: 1,000 WorkerPools (list format, each naming its password Secret) at a
// 5 s poll, with every queue changed on every poll and bursts landing on a few at a time. After
// a warm-up, a steady window of at least 5 minutes is measured: operator CPU and RSS, Redis round
// trips per endpoint per poll, API requests per minute (the API server's apiserver_request_total),
// status writes per pool per minute, Secret reads, and p95 time from a burst to the decision and
// to the Deployment's spec.replicas. Writes bench-results/operator.json.
//
// The operator runs with the image's NODE_OPTIONS (operator/Dockerfile), and /metrics is scraped
// every 15 s, as the shipped ServiceMonitor does: both cost memory and CPU that users pay.
//
// The memory mode (issue 21): BENCH_TEMPLATE_BYTES gives every pool a pod template of about that
// many bytes (fixtures.ts largeTemplate: random values, the worst case for the packed caches), and
// BENCH_OTHER_DEPLOYMENTS creates that many Deployments of other teams in another namespace, which
// the operator's Deployment informer sees too, e.g.
//   BENCH_TEMPLATE_BYTES=100000 BENCH_OTHER_DEPLOYMENTS=5000 npm run bench:operator
//
// BENCH_POOLS, BENCH_STEADY_SECONDS and BENCH_WARMUP_SECONDS shrink it for a quick try;
// BENCH_OPERATOR_NODE_ARGS passes more flags to the operator's node, for profiling only, e.g.
// "--cpu-prof --cpu-prof-dir=prof".

const POOLS = Number(process.env['BENCH_POOLS'] ?? 1000);
const ENDPOINTS = 10;
const POLL_SECONDS = 5;
const STEADY_SECONDS = Number(process.env['BENCH_STEADY_SECONDS'] ?? 300);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 90);
/** I/O-bound reconciles: a thousand pools want more of them than the default 4. */
const RECONCILE_WORKERS = Number(process.env['BENCH_RECONCILE_WORKERS'] ?? 16);
const TEMPLATE_BYTES = Number(process.env['BENCH_TEMPLATE_BYTES'] ?? 0);
const OTHER_DEPLOYMENTS = Number(process.env['BENCH_OTHER_DEPLOYMENTS'] ?? 0);
const OPERATOR_NODE_ARGS = (process.env['BENCH_OPERATOR_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
const SCRAPE_EVERY_MS = 15_000;
const LEVEL = 20;
const BURST_JOBS = 300;
const BURST_EVERY_MS = 10_000;
const BURST_HOLD_MS = 40_000;
const NAMESPACE = 'bench';
const PASSWORD = 'bench-redis-pw-3f1e';
const REPOSITORY = join(import.meta.dirname, '..', '..');

/** The API server's own /metrics (too large for kubectl's output buffer here). */
async function apiserverMetrics(kubeConfig: KubeConfig): Promise<string> {
  const url = new URL('/metrics', kubeConfig.getCurrentCluster()?.server);
  const options: RequestOptions = { hostname: url.hostname, port: url.port, path: url.pathname, method: 'GET' };
  await kubeConfig.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Another team's Deployment, with a template of a few KB as real ones have. */
function otherDeployment(i: number): V1Deployment {
  const labels = { app: `web-${i}` };
  return {
    metadata: { name: `web-${i}`, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'registry.example/web:1.0',
              env: Array.from({ length: 30 }, (_, k) => ({
                name: `SETTING_${k}`,
                value: `value-${k}`.padEnd(80, '-'),
              })),
              resources: { requests: { cpu: '100m', memory: '128Mi' } },
            },
          ],
        },
      },
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values: readonly number[], p: number) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

console.log(`starting a control plane and ${ENDPOINTS} redis-servers`);
const controlPlane = await startControlPlane();
const redisServers: RedisServer[] = [];
let operatorPid: number | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
try {
  installCrds(controlPlane);
  for (let i = 0; i < ENDPOINTS; i++) redisServers.push(await startRedisServer({ password: PASSWORD }));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  await core.createNamespacedSecret({
    namespace: NAMESPACE,
    body: { metadata: { name: 'redis-auth' }, stringData: { password: PASSWORD } },
  });

  const appsApi = kubeConfig.makeApiClient(AppsV1Api);
  if (OTHER_DEPLOYMENTS > 0) {
    console.log(`creating ${OTHER_DEPLOYMENTS} Deployments of other teams`);
    await core.createNamespace({ body: { metadata: { name: 'others' } } });
    for (let start = 0; start < OTHER_DEPLOYMENTS; start += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, OTHER_DEPLOYMENTS - start) }, (_, k) =>
          appsApi.createNamespacedDeployment({ namespace: 'others', body: otherDeployment(start + k) }),
        ),
      );
    }
  }
  const template = TEMPLATE_BYTES > 0 ? largeTemplate(TEMPLATE_BYTES) : undefined;
  console.log(
    `creating ${POOLS} WorkerPools${template ? ` with ${JSON.stringify(template).length}-byte templates` : ''}`,
  );
  const queues: QueueLoad[][] = redisServers.map(() => []);
  const poolQueue = new Map<string, { endpoint: number; queue: QueueLoad }>();
  const createStart = performance.now();
  for (let start = 0; start < POOLS; start += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, POOLS - start) }, async (_, k) => {
        const i = start + k;
        const endpoint = i % ENDPOINTS;
        const name = `pool-${String(i).padStart(4, '0')}`;
        const pool = templatePool(NAMESPACE, name, {
          ...(template ? { template } : {}),
          queue: {
            format: 'list',
            names: [`q:${name}`],
            redis: {
              url: `redis://127.0.0.1:${redisServers[endpoint]?.port ?? 0}/0`,
              passwordSecretRef: { name: 'redis-auth', key: 'password' },
            },
          },
          scaling: {
            minReplicas: 1,
            maxReplicas: 50,
            concurrency: 5,
            targetLatencySeconds: 30,
            pollIntervalSeconds: POLL_SECONDS,
          },
        });
        await custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace: NAMESPACE,
          body: pool,
        });
        const queue = { key: `q:${name}`, depth: 0 };
        queues[endpoint]?.push(queue);
        poolQueue.set(name, { endpoint, queue });
      }),
    );
  }
  console.log(`created in ${round((performance.now() - createStart) / 1000, 1)} s`);

  // The Deployments, watched from here: when spec.replicas rose after a burst.
  const raises = await watchReplicaRaises(kubeConfig, NAMESPACE);
  cleanups.push(() => raises.stop());

  const operator = await spawnOperatorProcess(controlPlane.kubeconfigPath, {
    logLevel: 'info',
    args: ['--reconcile-workers', String(RECONCILE_WORKERS)],
    nodeArgs: OPERATOR_NODE_ARGS,
    stderr: 'inherit',
  });
  const { metricsPort } = operator;
  operatorPid = operator.pid;
  cleanups.push(() => {
    operator.child.kill('SIGTERM');
  });
  const decisionsUp = new Map<string, number[]>();
  const operatorLog = operator.child.stdout;
  if (!operatorLog) throw new Error('the operator was started without a stdout pipe');
  createInterface({ input: operatorLog }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; time?: number; pool?: string; from?: number; to?: number };
      if (entry.msg === 'scale decision' && entry.pool && (entry.to ?? 0) > (entry.from ?? 0)) {
        const name = entry.pool.split('/')[1] ?? '';
        decisionsUp.set(name, [...(decisionsUp.get(name) ?? []), entry.time ?? Date.now()]);
      }
    } catch {
      // not a log line of ours
    }
  });

  const redisClients = redisServers.map((server) => new Redis(server.url));
  cleanups.push(() => redisClients.forEach((client) => client.disconnect()));
  let producing = true;
  const producers = redisClients.map(async (client, endpoint) => {
    // Spread the ticks of the endpoints over the poll interval.
    await sleep((endpoint * POLL_SECONDS * 1000) / ENDPOINTS);
    while (producing) {
      const started = Date.now();
      await churn(client, queues[endpoint] ?? [], LEVEL);
      await sleep(Math.max(0, POLL_SECONDS * 1000 - (Date.now() - started)));
    }
  });

  const operatorMetrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  // Steady state begins once every pool has been reconciled and the work queue has drained.
  const settleStart = Date.now();
  for (;;) {
    await sleep(5_000);
    const text = await operatorMetrics().catch(() => '');
    const reconciled = parseSamples(text, 'workerpool_reconcile_total').reduce((sum, sample) => sum + sample.value, 0);
    const waiting = parseSamples(text, 'workerpool_workqueue_depth')[0]?.value ?? Number.NaN;
    if (reconciled >= POOLS && waiting === 0) break;
    if (Date.now() - settleStart > 15 * 60_000)
      throw new Error(
        `the operator did not settle within 15 minutes: ${reconciled} reconciles, ${waiting} keys waiting`,
      );
  }
  console.log(
    `every pool reconciled after ${round((Date.now() - settleStart) / 1000, 0)} s; warming up for ${WARMUP_SECONDS} s more`,
  );
  await sleep(WARMUP_SECONDS * 1000);

  const apiserverSamples = async () => parseSamples(await apiserverMetrics(kubeConfig), 'apiserver_request_total');
  const timeCalls = async () =>
    Promise.all(
      redisClients.map(async (client) =>
        Number(/cmdstat_time:calls=(\d+)/.exec(String(await client.info('commandstats')))?.[1] ?? 0),
      ),
    );
  const snapshot = async () => ({
    atMs: Date.now(),
    cpu: cpuSeconds(operatorPid ?? 0),
    api: await apiserverSamples(),
    operator: await operatorMetrics(),
    time: await timeCalls(),
    load: loadavg()[0] ?? Number.NaN,
  });

  const bursts: { pool: string; atMs: number }[] = [];
  const burstTimer = setInterval(() => {
    const names = [...poolQueue.keys()];
    for (let k = 0; k < 2; k++) {
      const name = names[Math.floor(Math.random() * names.length)] ?? '';
      const target = poolQueue.get(name);
      const client = target ? redisClients[target.endpoint] : undefined;
      if (!target || !client) continue;
      const atMs = Date.now();
      void burst(client, target.queue, BURST_JOBS).then(() => bursts.push({ pool: name, atMs }));
      setTimeout(() => void drain(client, target.queue, LEVEL).catch(() => undefined), BURST_HOLD_MS).unref();
    }
  }, BURST_EVERY_MS);

  console.log(`measuring a steady window of ${STEADY_SECONDS} s`);
  const before = await snapshot();
  const rss: number[] = [];
  const rssTimer = setInterval(() => rss.push(rssMiB(operatorPid ?? 0).total), 5_000);
  // Prometheus' scrape, and where the memory went at the scrape that found the most RSS.
  let atMaxRss: { rss: ReturnType<typeof rssMiB>; heap: MemoryBreakdown } | undefined;
  const scrapeTimer = setInterval(() => {
    void operatorMetrics()
      .then((text) => {
        const now = rssMiB(operatorPid ?? 0);
        if (now.total >= (atMaxRss?.rss.total ?? 0)) atMaxRss = { rss: now, heap: memoryBreakdown(text) };
      })
      .catch(() => undefined);
  }, SCRAPE_EVERY_MS);
  await sleep(STEADY_SECONDS * 1000);
  clearInterval(burstTimer);
  const after = await snapshot();
  clearInterval(rssTimer);
  clearInterval(scrapeTimer);
  producing = false;
  await Promise.all(producers);

  const gcBefore = gcSeconds(before.operator);
  const minutes = (after.atMs - before.atMs) / 60_000;
  const seconds = (after.atMs - before.atMs) / 1000;
  const cpuPercent = round((100 * (after.cpu - before.cpu)) / seconds, 1);
  const pollsPerEndpoint = seconds / POLL_SECONDS;
  const roundTrips = after.time.map((calls, i) => round((calls - (before.time[i] ?? 0)) / pollsPerEndpoint, 2));
  const requests = deltaBy(
    before.api,
    after.api,
    (l) => `${l['verb']} ${l['resource']}${l['subresource'] ? `/${l['subresource']}` : ''}`,
  );
  const apiPerMinute = [...requests]
    .map(([key, count]) => ({ request: key, perMinute: round(count / minutes, 1) }))
    .sort((a, b) => b.perMinute - a.perMinute);
  const statusWrites = [...requests]
    .filter(([key]) => key === 'APPLY workerpools/status' || key === 'PATCH workerpools/status')
    .reduce((sum, [, n]) => sum + n, 0);
  // GET and LIST only: the API server's own loopback informers re-open a WATCH of secrets now and then.
  const secretReads = [...requests]
    .filter(([key]) => key === 'GET secrets' || key === 'LIST secrets')
    .reduce((sum, [, n]) => sum + n, 0);
  const operatorSecretReads =
    parseSamples(after.operator, 'workerpool_secret_reads_total').reduce((sum, s) => sum + s.value, 0) -
    parseSamples(before.operator, 'workerpool_secret_reads_total').reduce((sum, s) => sum + s.value, 0);
  const operatorCounter = (text: string, name: string): Sample[] => parseSamples(text, name);
  const operatorWrites = deltaBy(
    operatorCounter(before.operator, 'workerpool_api_writes_total'),
    operatorCounter(after.operator, 'workerpool_api_writes_total'),
    (l) => `${l['verb']} ${l['kind']}`,
  );
  const firstAfter = (times: readonly number[] | undefined, atMs: number) => times?.find((t) => t >= atMs);
  const toDecision: number[] = [];
  const toReplicas: number[] = [];
  // The part after the decision: the work queue, the reconcile and its one apply, and the watch.
  const decisionToReplicas: number[] = [];
  for (const { pool, atMs } of bursts) {
    const decided = firstAfter(decisionsUp.get(pool), atMs);
    const raised = raises.raisedAfter(pool, atMs);
    if (decided !== undefined) toDecision.push((decided - atMs) / 1000);
    if (raised !== undefined) toReplicas.push((raised - atMs) / 1000);
    if (decided !== undefined && raised !== undefined) decisionToReplicas.push((raised - decided) / 1000);
  }
  const summary = (values: readonly number[]) => ({
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    max: round(Math.max(...values)),
    n: values.length,
  });

  const result = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    pools: POOLS,
    templateBytes: template ? JSON.stringify(template).length : undefined,
    otherDeployments: OTHER_DEPLOYMENTS,
    reconcileWorkers: RECONCILE_WORKERS,
    redisEndpoints: ENDPOINTS,
    pollIntervalSeconds: POLL_SECONDS,
    steadySeconds: round(seconds, 0),
    // The machine's 1-minute load average at the start and the end of the window: CPU numbers are
    // only comparable between runs on an equally loaded machine.
    loadAverage: { start: round(before.load), end: round(after.load) },
    operatorCpuPercentOfOneCore: cpuPercent,
    operatorNodeOptions: operator.nodeOptions,
    operatorNodeArgs: OPERATOR_NODE_ARGS,
    operatorRssMiB: { max: Math.max(...rss), end: rss.at(-1) },
    // Where the RSS goes, at the highest RSS sample and at the end of the window.
    operatorMemoryAtMaxRss: atMaxRss,
    operatorMemoryAtEnd: { rss: rssMiB(operatorPid ?? 0), heap: memoryBreakdown(after.operator) },
    operatorGcSecondsInWindow: Object.fromEntries(
      Object.entries(gcSeconds(after.operator)).map(([kind, s]) => [kind, round(s - (gcBefore[kind] ?? 0), 2)]),
    ),
    redisRoundTripsPerEndpointPerPoll: roundTrips,
    apiRequestsPerMinute: apiPerMinute,
    statusWritesPerPoolPerMinute: round(statusWrites / POOLS / minutes, 3),
    secretReadsInWindow: { apiserver: secretReads, operator: operatorSecretReads },
    operatorWritesInWindow: Object.fromEntries(operatorWrites),
    bursts: bursts.length,
    burstToDecisionSeconds: summary(toDecision),
    burstToSpecReplicasSeconds: summary(toReplicas),
    decisionToSpecReplicasSeconds: summary(decisionToReplicas),
  };

  const rows: [string, string, string][] = [
    ['operator CPU (% of one core)', String(result.operatorCpuPercentOfOneCore), '<= 10'],
    ['operator RSS MiB (max / end)', `${result.operatorRssMiB.max} / ${result.operatorRssMiB.end ?? ''}`, '<= 256'],
    [
      'at max RSS: RSS anon / file; heap used / total / external MiB',
      atMaxRss
        ? `${atMaxRss.rss.anon} / ${atMaxRss.rss.file}; ${atMaxRss.heap.heapUsedMiB} / ${atMaxRss.heap.heapTotalMiB} / ${atMaxRss.heap.externalMiB}`
        : 'not sampled',
      '',
    ],
    [
      'at max RSS: heap spaces reserved MiB',
      Object.entries(atMaxRss?.heap.heapSpacesMiB ?? {})
        .map(([space, mib]) => `${space} ${mib}`)
        .join(', '),
      '',
    ],
    [
      'GC seconds in the window (by kind)',
      Object.entries(result.operatorGcSecondsInWindow)
        .map(([kind, s]) => `${kind} ${s}`)
        .join(', '),
      '',
    ],
    ['Redis round trips per endpoint per poll', `${Math.min(...roundTrips)} .. ${Math.max(...roundTrips)}`, '1'],
    ['status writes per pool per minute', String(result.statusWritesPerPoolPerMinute), '<= 2'],
    ['Secret reads in the window (API server / operator)', `${secretReads} / ${operatorSecretReads}`, '0'],
    [
      'burst -> decision p50 / p95 / max s',
      `${result.burstToDecisionSeconds.p50} / ${result.burstToDecisionSeconds.p95} / ${result.burstToDecisionSeconds.max} (n=${toDecision.length})`,
      '',
    ],
    ...(
      [
        ['burst -> spec.replicas', result.burstToSpecReplicasSeconds, '<= 7.5 (p95)'],
        ['decision -> spec.replicas', result.decisionToSpecReplicasSeconds, ''],
      ] as const
    ).map(([name, s, target]): [string, string, string] => [
      `${name} p50 / p95 / max s`,
      `${s.p50} / ${s.p95} / ${s.max} (n=${s.n})`,
      target,
    ]),
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(
    `\n${POOLS} WorkerPools${result.templateBytes ? ` (${result.templateBytes}-byte templates)` : ''}${OTHER_DEPLOYMENTS ? ` and ${OTHER_DEPLOYMENTS} other Deployments` : ''} over ${ENDPOINTS} redis-servers, ${POLL_SECONDS} s poll, ${RECONCILE_WORKERS} reconcile workers, ${round(seconds, 0)} s steady window (node ${process.version} NODE_OPTIONS="${operator.nodeOptions}"${OPERATOR_NODE_ARGS.length > 0 ? ` ${OPERATOR_NODE_ARGS.join(' ')}` : ''}; load average ${result.loadAverage.start} -> ${result.loadAverage.end})\n`,
  );
  console.log(`${'measure'.padEnd(width)}  value  (target)`);
  for (const [name, value, target] of rows)
    console.log(`${name.padEnd(width)}  ${value}${target ? `  (${target})` : ''}`);
  console.log('\nAPI requests per minute (apiserver_request_total, by verb and resource):');
  for (const { request, perMinute } of apiPerMinute) console.log(`  ${request.padEnd(40)} ${perMinute}`);

  const outputDirectory = join(REPOSITORY, 'bench-results');
  mkdirSync(outputDirectory, { recursive: true });
  writeFileSync(join(outputDirectory, 'operator.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log('\nwrote bench-results/operator.json');
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await sleep(1_000);
  for (const server of redisServers) await server.stop();
  await controlPlane.stop();
}
