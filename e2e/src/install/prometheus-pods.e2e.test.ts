import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from '@workerpool/worker-runtime';
import { enqueueWork, exampleNativePool } from '../harness/e2e-pool.ts';
import { freeLoopbackPort, waitUntil } from '@workerpool/testkit/processes';
import { startScenario, type Scenario } from '../harness/scenario.ts';
import {
  dashboardQueries,
  grafanaQuery,
  operatorScrapeJob,
  podMonitorScrapeJob,
  startPrometheus,
  type RunningPrometheus,
} from './prometheus.ts';

// The dashboard as an operations team sees it: a real Prometheus scrapes the operator and the
// worker pods of a pool running on the real node (at their pod IPs, as the shipped PodMonitor has the
// Prometheus Operator configure it),
// while jobs flow, some fail and some end in the dead letters; every panel then shows that pool.

const POOL = 'mailers';
// Its Redis refuses connections, so the signal-error panel has a pool to show.
const UNREACHABLE = 'unreachable';
const PODS = 2;

const sumOf = (result: unknown[]) =>
  result.reduce<number>((total, sample) => total + Number((sample as { value: [number, string] }).value[1]), 0);

describe('a real Prometheus scraping the worker pods of a pool on the real node', () => {
  let scenario: Scenario;
  let prometheus: RunningPrometheus;
  const flowing: string[] = [];
  let producing = true;
  let producer: Promise<void> | undefined;

  beforeAll(async () => {
    scenario = await startScenario();
    const { namespace, redis, evidence } = scenario;
    const watch = scenario.watch(POOL);
    // It grows once, on a burst, so the scale-decision panel has a decision to show; its long
    // scale-down window keeps both pods (the scrape targets) until the end.
    const scaling = {
      minReplicas: 1,
      maxReplicas: PODS,
      concurrency: 2,
      targetLatencySeconds: 5,
      pollIntervalSeconds: 1,
      podStartupSeconds: 5,
      scaleDown: { stabilizationWindowSeconds: 600 },
    };
    await watch.create(exampleNativePool(namespace, POOL, redis.url, { recordPrefix: evidence.prefix, scaling }));
    const unreachable = `redis://127.0.0.1:${await freeLoopbackPort()}/0`;
    await scenario.watch(UNREACHABLE).create(
      exampleNativePool(namespace, UNREACHABLE, unreachable, {
        recordPrefix: evidence.prefix,
        scaling: { ...scaling, minReplicas: 0, maxReplicas: 1 },
      }),
    );
    // 60 jobs of 300 ms: one pod of 2 would need 9 s, past the 5 s target.
    flowing.push(...(await enqueueWork(redis.url, POOL, 60, 300)));
    await waitUntil(`${PODS} ready pods of ${POOL}`, async () => (await watch.readyPods()).length === PODS, {
      timeoutMs: 90_000,
      intervalMs: 500,
    });

    const pods = await watch.readyPods();
    prometheus = await startPrometheus([
      operatorScrapeJob(scenario.operator.addresses.metrics),
      podMonitorScrapeJob(pods),
    ]);

    producer = (async () => {
      while (producing) {
        flowing.push(...(await enqueueWork(redis.url, POOL, 4, 300)));
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    const failing = new Queue(POOL, { connection: redis.url });
    // A run past its timeout fails, and with one attempt it is dead; a job no handler knows is dead at once.
    await failing.add('work', { ms: 2_000 }, { timeout: 100, attempts: 1 });
    await failing.add('poison', {});
    await failing.close();
  }, 180_000);
  afterAll(async () => {
    producing = false;
    await producer;
    await prometheus?.stop();
    await scenario?.close();
  });

  it('scrapes the operator, and every worker pod at its pod IP as the shipped PodMonitor selects it', async () => {
    await expect
      .poll(
        () =>
          prometheus
            .query(`up{job="workerpool-system/workerpool-workers", pool="${POOL}"} == 1`)
            .then((result) => result.length),
        { timeout: 30_000, interval: 500 },
      )
      .toBe(PODS);
    await expect
      .poll(() => prometheus.query('up{job="workerpool-operator"} == 1').then((result) => result.length), {
        timeout: 30_000,
        interval: 500,
      })
      .toBe(1);
  });

  it.each(dashboardQueries())('panel "$panel": $expr returns data for the pool', async ({ expr }) => {
    const pool = expr.includes('workerpool_signal_read_errors_total') ? UNREACHABLE : POOL;
    const query = grafanaQuery(expr, { namespace: scenario.namespace, pool });
    await expect
      .poll(() => prometheus.query(query).then((result) => result.length), { timeout: 60_000, interval: 1_000 })
      .toBeGreaterThan(0);
  });

  it('counts on the pods every job the pods did, once the flow stops', async () => {
    producing = false;
    await producer;
    await expect.poll(() => scenario.evidence.unfinished(flowing), { timeout: 60_000, interval: 1_000 }).toEqual([]);
    // The burst and the flow are the only `work` runs that succeeded: the timed-out one failed.
    const processed = `sum(workerpool_jobs_processed_total{namespace="${scenario.namespace}", pool="${POOL}", name="work"})`;
    await expect
      .poll(() => prometheus.query(processed).then(sumOf), { timeout: 15_000, interval: 1_000 })
      .toBe(flowing.length);
    const dead = `sum by (reason) (workerpool_jobs_dead_total{namespace="${scenario.namespace}", pool="${POOL}"})`;
    await expect
      .poll(() => prometheus.query(dead).then((result) => result.length), { timeout: 15_000, interval: 1_000 })
      .toBe(2);
  });
});
