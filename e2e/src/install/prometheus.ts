import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, startProcess, waitUntil } from '../harness/processes.ts';
import { ecosystemTool } from './ecosystem-tools.ts';
import { MANIFESTS } from './manifests.ts';

// A real Prometheus (the cached binary) on loopback with a static scrape config, and the shipped
// dashboard's queries as Grafana would send them: what the monitoring tests run against it.

const DASHBOARD = join(MANIFESTS, 'components', 'grafana-dashboard', 'workerpool-dashboard.json');

interface Panel {
  title: string;
  targets: { expr: string }[];
}

export interface DashboardQuery {
  readonly panel: string;
  /** As written in the dashboard, with its `$namespace`, `$pool` and `$__rate_interval` variables. */
  readonly expr: string;
}

/** Every query of every panel of the shipped dashboard. */
export function dashboardQueries(): DashboardQuery[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  return dashboard.panels.flatMap((panel) =>
    panel.targets.map((target) => ({ panel: panel.title, expr: target.expr })),
  );
}

/** A dashboard query with its variables filled in as Grafana does; `pool` is a regex (`.+` for "All"). */
export function grafanaQuery(expr: string, variables: { namespace: string; pool: string }): string {
  return expr
    .replaceAll('$namespace', variables.namespace)
    .replaceAll('$pool', variables.pool)
    .replaceAll('$__rate_interval', '30s');
}

export interface ScrapeJob {
  readonly job_name: string;
  readonly static_configs: { targets: string[]; labels?: Record<string, string> }[];
}

/** The operator's /metrics, as the test process serves it. */
export function operatorScrapeJob(metricsUrl: string): ScrapeJob {
  return { job_name: 'workerpool-operator', static_configs: [{ targets: [new URL(metricsUrl).host] }] };
}

export interface RunningPrometheus {
  readonly url: string;
  /** An instant query's result vector; a query Prometheus rejects throws with its error. */
  query(expr: string): Promise<unknown[]>;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `jobs` every second; resolves once it is ready. */
export async function startPrometheus(jobs: readonly ScrapeJob[]): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'workerpool-prometheus-'));
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    JSON.stringify({ global: { scrape_interval: '1s', evaluation_interval: '1s' }, scrape_configs: jobs }),
  );
  const server = startProcess('prometheus', ecosystemTool('prometheus'), [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  const stop = async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(
      'Prometheus ready',
      async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true,
      { process: server, timeoutMs: 60_000 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, query: (expr) => instantQuery(url, expr), stop };
}

async function instantQuery(url: string, expr: string): Promise<unknown[]> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? response.status}`);
  return body.data?.result ?? [];
}
