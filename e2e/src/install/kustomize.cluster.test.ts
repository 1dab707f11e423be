import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WorkerPool } from '@workerpool/operator/api/workerpool-schema';
import { POOL_LABEL, childLabels } from '@workerpool/operator/controller/labels';
import { CONFIG_DEFAULTS } from '@workerpool/worker-runtime/config';
import { kubectl, testKubeConfig } from '@workerpool/testkit/cluster';
import {
  MANIFESTS,
  OPERATOR_NAMESPACE,
  REPOSITORY_ROOT,
  ensureNamespace,
  findObject,
  kustomize,
  readManifests,
  type ManifestObject,
} from './manifests.ts';

// The install as a platform engineer runs it: every kustomization and every example goes through
// the real API server (schema, CEL rules, admission) in a server-side dry run.

const kubeConfig = testKubeConfig();

/** A dry run still needs the target namespace to exist, so these few are created for real. */
beforeAll(async () => {
  await ensureNamespace(kubeConfig, OPERATOR_NAMESPACE, { 'pod-security.kubernetes.io/enforce': 'restricted' });
});

function serverDryRun(args: string[]) {
  const result = kubectl(['apply', '--server-side', '--dry-run=server', ...args]);
  expect(result.stderr, `kubectl apply ${args.join(' ')}`).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

const kindsAndNames = (objects: readonly ManifestObject[]) =>
  objects.map((object) => `${object.kind}/${object.metadata.name}`).sort();

describe('kubectl apply -k', () => {
  it('manifests/ installs the namespace, CRD, RBAC, operator Deployment, PDB and metrics Service', () => {
    const objects = kustomize('manifests');
    expect(kindsAndNames(objects)).toEqual([
      'ClusterRole/workerpool-edit',
      'ClusterRole/workerpool-operator',
      'ClusterRole/workerpool-view',
      'ClusterRoleBinding/workerpool-operator',
      'CustomResourceDefinition/workerpools.workerpool.dev',
      'Deployment/workerpool-operator',
      'Namespace/workerpool-system',
      'PodDisruptionBudget/workerpool-operator',
      'Role/workerpool-operator-leader-election',
      'RoleBinding/workerpool-operator-leader-election',
      'Service/workerpool-operator-metrics',
      'ServiceAccount/workerpool-operator',
    ]);
    const stdout = serverDryRun(['-k', MANIFESTS]);
    expect(stdout.trim().split('\n')).toHaveLength(objects.length);
  });

  it('overlays/namespaced replaces the ClusterRole with a Role and limits the operator to its namespace', () => {
    const objects = kustomize('manifests/overlays/namespaced');
    const kinds = objects.map((object) => object.kind);
    expect(kinds).not.toContain('ClusterRoleBinding');
    expect(kinds).not.toContain('Namespace'); // a team's namespace is not the install's to own
    expect(
      objects
        .filter((object) => object.kind === 'ClusterRole')
        .map((object) => object.metadata.name)
        .sort(),
    ).toEqual(['workerpool-edit', 'workerpool-view']);
    const deployment = findObject(objects, 'Deployment', 'workerpool-operator') as unknown as V1Deployment;
    expect(deployment.spec?.template.spec?.containers[0]?.args).toContain('--namespace=$(POD_NAMESPACE)');
    serverDryRun(['-k', join(MANIFESTS, 'overlays', 'namespaced')]);
  });

  it('the namespaced Role grants exactly what the ClusterRole grants', () => {
    const clusterRole = findObject(kustomize('manifests'), 'ClusterRole', 'workerpool-operator');
    const role = findObject(kustomize('manifests/overlays/namespaced'), 'Role', 'workerpool-operator');
    expect(role['rules']).toEqual(clusterRole['rules']);
  });

  it('overlays/monitoring adds a ServiceMonitor that selects the metrics Service by its labels and port name, the alerts and the dashboard', () => {
    const objects = kustomize('manifests/overlays/monitoring');
    const monitor = findObject(objects, 'ServiceMonitor', 'workerpool-operator') as unknown as {
      metadata: { namespace: string };
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    };
    const service = findObject(objects, 'Service', 'workerpool-operator-metrics') as unknown as {
      metadata: { namespace: string; labels: Record<string, string> };
      spec: { ports: { name: string }[] };
    };
    expect(monitor.metadata.namespace).toBe(service.metadata.namespace);
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(service.spec.ports.map((port) => port.name)).toContain(monitor.spec.endpoints[0]?.port);
    // The rest of the overlay is the base, which the first test applies; the ServiceMonitor and
    // PrometheusRule kinds exist only where the Prometheus Operator is installed, which this API
    // server is not. monitoring.cluster.test.ts checks the rules and the dashboard themselves.
    const added = [
      'ServiceMonitor/workerpool-operator',
      'PodMonitor/workerpool-workers',
      'PrometheusRule/workerpool-operator',
      'ConfigMap/workerpool-dashboard',
    ];
    expect(
      kindsAndNames(objects)
        .filter((name) => added.includes(name))
        .sort(),
    ).toEqual([...added].sort());
    expect(
      kindsAndNames(objects.filter((object) => !added.includes(`${object.kind}/${object.metadata.name}`))),
    ).toEqual(kindsAndNames(kustomize('manifests')));
  });

  it("overlays/monitoring adds a PodMonitor that selects every pool's worker pods and scrapes the example's metrics port", () => {
    const monitor = findObject(
      kustomize('manifests/overlays/monitoring'),
      'PodMonitor',
      'workerpool-workers',
    ) as unknown as {
      spec: {
        namespaceSelector: { any?: boolean };
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: { port: string; relabelings: { sourceLabels: string[]; targetLabel: string }[] }[];
      };
    };
    expect(monitor.spec.namespaceSelector.any).toBe(true);
    // The labels the operator puts on the pods of any pool, and nothing a user's template adds.
    expect(childLabels('any-pool')).toMatchObject(monitor.spec.selector.matchLabels);
    const [endpoint] = monitor.spec.podMetricsEndpoints;
    expect(endpoint?.relabelings).toContainEqual({
      sourceLabels: [`__meta_kubernetes_pod_label_${POOL_LABEL.replace(/[^a-zA-Z0-9_]/g, '_')}`],
      targetLabel: 'pool',
    });
    const example = readManifests('manifests', 'examples', 'native-workerpool.yaml')[0] as unknown as WorkerPool;
    const ports = example.spec.template?.spec?.containers.flatMap((container) => container.ports ?? []) ?? [];
    expect(ports).toContainEqual({ name: endpoint?.port, containerPort: CONFIG_DEFAULTS.metricsPort });
  });
});

describe('the operator Deployment', () => {
  /** The flags `run` accepts, from its own --help (the entry point the image runs). */
  function runFlags(): Set<string> {
    const help = spawnSync(
      process.execPath,
      [join(REPOSITORY_ROOT, 'operator', 'src', 'cli', 'main.ts'), 'run', '--help'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(help.status, help.stderr).toBe(0);
    return new Set([...help.stdout.matchAll(/^\s+(--[a-z][a-z-]*)/gm)].map((match) => match[1] ?? ''));
  }

  it.each(['manifests', 'manifests/overlays/namespaced'])(
    'in %s passes only flags that `workerpool-operator run` accepts',
    (dir) => {
      const deployment = findObject(kustomize(dir), 'Deployment', 'workerpool-operator') as unknown as V1Deployment;
      const [command, ...flags] = deployment.spec?.template.spec?.containers[0]?.args ?? [];
      expect(command).toBe('run');
      const known = runFlags();
      for (const flag of flags) expect(known, flag).toContain(flag.split('=')[0]);
    },
  );

  it('runs two replicas under leader election, with the pod name and namespace from the downward API', () => {
    const deployment = findObject(
      kustomize('manifests'),
      'Deployment',
      'workerpool-operator',
    ) as unknown as V1Deployment;
    const container = deployment.spec?.template.spec?.containers[0];
    expect(deployment.spec?.replicas).toBe(2);
    expect(container?.args).toContain('--leader-elect');
    expect(container?.env?.map((variable) => [variable.name, variable.valueFrom?.fieldRef?.fieldPath])).toEqual([
      ['POD_NAME', 'metadata.name'],
      ['POD_NAMESPACE', 'metadata.namespace'],
    ]);
    expect(container?.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'health' });
    expect(container?.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'health' });
    expect(container?.ports?.map((port) => [port.name, port.containerPort])).toEqual([
      ['metrics', 8080],
      ['health', 8081],
    ]);
  });
});

describe('the CRD in the install', () => {
  it('is the generated crds/workerpool.dev_workerpools.yaml, included through crds/Kustomization, not a copy', () => {
    const [generated] = readManifests('crds', 'workerpool.dev_workerpools.yaml');
    const installed = findObject(kustomize('manifests'), 'CustomResourceDefinition', 'workerpools.workerpool.dev');
    const { labels: installedLabels, ...installedMetadata } = installed.metadata;
    const { labels: generatedLabels, ...generatedMetadata } = generated?.metadata ?? { name: '' };
    expect(installedMetadata).toEqual(generatedMetadata);
    expect(installedLabels).toEqual({ ...generatedLabels, 'app.kubernetes.io/part-of': 'workerpool-operator' });
    expect(installed['spec']).toEqual(generated?.['spec']);
  });
});

describe('manifests/examples', () => {
  const examples = [
    'native-workerpool.yaml',
    'sidekiq-workerpool.yaml',
    'sidekiq-scale-target.yaml',
    'bullmq-workerpool.yaml',
  ];

  it.each(examples)('%s is accepted by the API server as written', (file) => {
    const stdout = serverDryRun(['-f', join(MANIFESTS, 'examples', file)]);
    expect(stdout).toMatch(/workerpool\.workerpool\.dev\/[a-z-]+ serverside-applied \(server dry run\)/);
  });

  it('covers template mode and scaleTargetRef mode for Sidekiq, and BullMQ and native', () => {
    const pools = examples
      .flatMap((file) => readManifests('manifests', 'examples', file))
      .filter((object) => object.kind === 'WorkerPool') as unknown as {
      spec: { template?: object; scaleTargetRef?: object; queue: { format: string } };
    }[];
    const modes = pools
      .map((pool) => `${pool.spec.queue.format}:${pool.spec.template ? 'template' : 'scaleTargetRef'}`)
      .sort();
    expect(modes).toEqual(['bullmq:template', 'native:template', 'sidekiq:scaleTargetRef', 'sidekiq:template']);
  });

  it('leaves replicas out of Git wherever the operator sets them', () => {
    const objects = examples.flatMap((file) => readManifests('manifests', 'examples', file));
    for (const object of objects) {
      expect(
        (object['spec'] as { replicas?: number }).replicas,
        `${object.kind}/${object.metadata.name}`,
      ).toBeUndefined();
    }
  });
});

describe('manifests/argocd', () => {
  it('argocd-cm-patch.yaml carries health.lua verbatim, under the key Argo CD looks up for WorkerPools', () => {
    const [patch] = readManifests('manifests', 'argocd', 'argocd-cm-patch.yaml');
    const data = patch?.['data'] as Record<string, string>;
    expect(Object.keys(data)).toEqual(['resource.customizations.health.workerpool.dev_WorkerPool']);
    expect(data['resource.customizations.health.workerpool.dev_WorkerPool']).toBe(
      readFileSync(join(MANIFESTS, 'argocd', 'health.lua'), 'utf8'),
    );
  });

  it('merges into an existing argocd-cm with the kubectl patch command GITOPS.md gives', async () => {
    await ensureNamespace(kubeConfig, 'argocd');
    kubectl(['create', 'configmap', 'argocd-cm', '-n', 'argocd', '--from-literal=url=https://argocd.example']);
    const patched = kubectl([
      'patch',
      'configmap',
      'argocd-cm',
      '-n',
      'argocd',
      '--type',
      'merge',
      '--patch-file',
      join(MANIFESTS, 'argocd', 'argocd-cm-patch.yaml'),
    ]);
    expect(patched.stderr).toBe('');
    const data = JSON.parse(
      kubectl(['get', 'configmap', 'argocd-cm', '-n', 'argocd', '-o', 'jsonpath={.data}']).stdout,
    ) as Record<string, string>;
    expect(data['url']).toBe('https://argocd.example'); // existing settings survive the merge
    expect(data['resource.customizations.health.workerpool.dev_WorkerPool']).toBe(
      readFileSync(join(MANIFESTS, 'argocd', 'health.lua'), 'utf8'),
    );
  });
});
