import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { freeLoopbackPort, startProcess, waitUntil } from '@workerpool/testkit/processes';
import { ecosystemTool } from './ecosystem-tools.ts';
import { MANIFESTS, readManifests } from './manifests.ts';

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

interface PodMonitor {
  metadata: { name: string; namespace: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    podMetricsEndpoints: { port: string; relabelings?: { sourceLabels: string[]; targetLabel: string }[] }[];
  };
}

/** The Prometheus meta label a pod label becomes: every character outside [a-zA-Z0-9_] is an underscore. */
const podLabelMeta = (label: string) => `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;

/**
 * What the Prometheus Operator makes of the shipped PodMonitor (manifests/components/podmonitor),
 * written out as a static config for these pods: the pods its selector matches, at the container
 * port of its endpoint's name, with the job, namespace, pod and container labels the Prometheus
 * Operator adds and the pod-label relabelings the PodMonitor asks for. A relabeling of any other
 * kind fails here, so the shipped object cannot drift from what the test scrapes.
 */
export function podMonitorScrapeJob(pods: readonly V1Pod[]): ScrapeJob {
  const monitor = readManifests('manifests', 'components', 'podmonitor', 'podmonitor.yaml')[0] as unknown as PodMonitor;
  const [endpoint, ...more] = monitor.spec.podMetricsEndpoints;
  if (!endpoint || more.length > 0) throw new Error('the PodMonitor should have exactly one endpoint');
  const selected = pods.filter((pod) =>
    Object.entries(monitor.spec.selector.matchLabels).every(([key, value]) => pod.metadata?.labels?.[key] === value),
  );
  return {
    job_name: `${monitor.metadata.namespace}/${monitor.metadata.name}`,
    static_configs: selected.flatMap((pod) =>
      (pod.spec?.containers ?? []).flatMap((container) =>
        (container.ports ?? [])
          .filter((port) => port.name === endpoint.port)
          .map((port) => {
            const labels: Record<string, string> = {
              namespace: pod.metadata?.namespace ?? '',
              pod: pod.metadata?.name ?? '',
              container: container.name,
            };
            for (const { sourceLabels, targetLabel } of endpoint.relabelings ?? []) {
              const [source, ...others] = sourceLabels;
              const label = Object.keys(pod.metadata?.labels ?? {}).find((key) => podLabelMeta(key) === source);
              if (others.length > 0 || !source?.startsWith('__meta_kubernetes_pod_label_'))
                throw new Error(`the test cannot apply the PodMonitor relabeling of ${sourceLabels.join(', ')}`);
              if (label) labels[targetLabel] = pod.metadata?.labels?.[label] ?? '';
            }
            return { targets: [`${pod.status?.podIP ?? ''}:${port.containerPort}`], labels };
          }),
      ),
    ),
  };
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
