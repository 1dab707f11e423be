import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION } from '@workerpool/operator/api/workerpool-schema';
import type { RunningOperator } from '@workerpool/operator/operator';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { startOperatorForNamespace } from '@workerpool/operator/testing/operator-under-test';
import { Queue } from '@workerpool/worker-runtime';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '@workerpool/testkit/cluster';
import { freeLoopbackPort, startProcess, type ManagedProcess } from '@workerpool/testkit/processes';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { runTool } from './ecosystem-tools.ts';
import { REPOSITORY_ROOT, readManifests } from './manifests.ts';
import {
  dashboardQueries,
  grafanaQuery,
  operatorScrapeJob,
  startPrometheus,
  type RunningPrometheus,
} from './prometheus.ts';

// The dashboard and the alerts against a real Prometheus: promtool proves that each alert fires
// and resolves on recorded series, and a Prometheus scraping a running pool's operator and worker
// (as processes on loopback) answers every query of the dashboard with data.

describe('the alert rules', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'workerpool-rules-'));
    // A plain Prometheus rule file is the PrometheusRule's spec.
    const [rule] = readManifests('manifests', 'components', 'prometheus-rule', 'prometheus-rule.yaml');
    writeFileSync(join(dir, 'workerpool.rules.yaml'), JSON.stringify(rule?.['spec']));
    writeFileSync(
      join(dir, 'alerts.promtool-test.yaml'),
      readFileSync(join(import.meta.dirname, 'alerts.promtool-test.yaml')),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are valid Prometheus rules', () => {
    const checked = runTool('promtool', ['check', 'rules', join(dir, 'workerpool.rules.yaml')]);
    expect(checked.stdout + checked.stderr).toMatch(/SUCCESS: 5 rules found/);
    expect(checked.status).toBe(0);
  });

  it('each fire after their `for:` and resolve, in promtool test rules', () => {
    const tested = runTool('promtool', ['test', 'rules', join(dir, 'alerts.promtool-test.yaml')]);
    expect(tested.stdout + tested.stderr).toMatch(/SUCCESS/);
    expect(tested.status).toBe(0);
    const file = readFileSync(join(dir, 'alerts.promtool-test.yaml'), 'utf8');
    const rules = (
      readManifests('manifests', 'components', 'prometheus-rule', 'prometheus-rule.yaml')[0]?.['spec'] as {
        groups: { rules: { alert: string }[] }[];
      }
    ).groups.flatMap((group) => group.rules.map((rule) => rule.alert));
    // Every alert has a case where it fires (exp_alerts with labels) and one where it is quiet after.
    for (const alert of rules)
      expect(file, alert).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });
});

describe('a real Prometheus scraping a running pool', () => {
  const kubeConfig = testKubeConfig();
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  let namespace: TestNamespace;
  let redis: RedisServer;
  let operator: RunningOperator;
  let worker: ManagedProcess;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    namespace = await createTestNamespace(kubeConfig);
    redis = await startRedisServer();
    operator = await startOperatorForNamespace(kubeConfig, namespace.name);
    const scaling = {
      minReplicas: 1,
      maxReplicas: 10,
      concurrency: 4,
      targetLatencySeconds: 5,
      pollIntervalSeconds: 1,
    };
    const create = (name: string, url: string) =>
      custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: namespace.name,
        body: templatePool(namespace.name, name, {
          queue: { format: 'native', names: ['mail'], redis: { url } },
          scaling,
        }),
      });
    await create('mailers', redis.url);
    // Its Redis refuses connections: the signal-error panel has something to show.
    await create('unreachable', `redis://127.0.0.1:${await freeLoopbackPort()}/0`);

    const workerMetricsPort = await freeLoopbackPort();
    worker = startProcess(
      'workerpool-worker',
      process.execPath,
      [
        join(REPOSITORY_ROOT, 'worker-runtime', 'src', 'cli', 'main.ts'),
        'run',
        '--handlers',
        join(import.meta.dirname, 'monitoring-handlers.ts'),
      ],
      {
        PATH: process.env['PATH'] ?? '',
        REDIS_URL: redis.url,
        WORKERPOOL_QUEUES: 'mail',
        WORKERPOOL_CONCURRENCY: '4',
        WORKERPOOL_POD_NAME: 'mailers-0',
        WORKERPOOL_METRICS_PORT: String(workerMetricsPort),
        WORKERPOOL_METRICS_HOST: '127.0.0.1',
      },
    );

    // The labels a Kubernetes scrape config gives worker pods: their namespace, and the pool from
    // the workerpool.dev/pool label. The operator's series carry namespace and pool themselves.
    prometheus = await startPrometheus([
      operatorScrapeJob(operator.addresses.metrics),
      {
        job_name: 'workerpool-workers',
        static_configs: [
          {
            targets: [`127.0.0.1:${workerMetricsPort}`],
            labels: { namespace: namespace.name, pool: 'mailers', pod: 'mailers-0' },
          },
        ],
      },
    ]);

    const producer = new Queue('mail', { connection: redis.url });
    await producer.addBulk(Array.from({ length: 40 }, (_, i) => ({ name: 'send', data: { i } })));
    await producer.add('poison', {});
    await producer.close();
  }, 180_000);
  afterAll(async () => {
    await prometheus?.stop();
    await worker?.stop();
    await operator?.stop();
    await redis?.stop();
    await namespace?.delete();
  });

  it('scrapes the operator and the worker', async () => {
    await expect
      .poll(() => prometheus.query('up == 1').then((result) => result.length), { timeout: 30_000, interval: 500 })
      .toBe(2);
  });

  it.each(dashboardQueries())('panel "$panel": $expr returns data', async ({ expr }) => {
    const real = grafanaQuery(expr, { namespace: namespace.name, pool: '.+' });
    await expect
      .poll(() => prometheus.query(real).then((result) => result.length), { timeout: 60_000, interval: 1_000 })
      .toBeGreaterThan(0);
  });
});
