import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { kubectl, testKubeConfig } from '@workerpool/testkit/cluster';
import { startControlPlane, type ControlPlane } from '@workerpool/testkit/control-plane';
import { CHART, helm, helmTemplate, removeHelmHome, setFlags } from './helm.ts';
import {
  MANIFESTS,
  OPERATOR_NAMESPACE,
  ensureNamespace,
  kustomize,
  parseManifests,
  type ManifestObject,
} from './manifests.ts';

afterAll(removeHelmHome);

// The Helm chart as a platform engineer uses it, with the real helm CLI: it lints, it renders
// the same objects as the kustomize install for the same settings (one source of truth: a change to
// one that the other lacks fails here), the API server accepts what it renders, and a release
// installs, upgrades and uninstalls, keeping the CRD.

/** What Helm adds that kustomize does not: its release labels, and the keep policy on the CRD. */
const HELM_ONLY_LABELS = [
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
  'helm.sh/chart',
];

function withoutHelmBookkeeping(object: ManifestObject): ManifestObject {
  const labels = Object.fromEntries(
    Object.entries(object.metadata.labels ?? {}).filter(([key]) => !HELM_ONLY_LABELS.includes(key)),
  );
  const { 'helm.sh/resource-policy': _keep, ...annotations } = object.metadata.annotations ?? {};
  const metadata = { ...object.metadata, labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) };
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
  return { ...object, metadata };
}

const byKindAndName = (objects: readonly ManifestObject[]) =>
  new Map(
    objects.map((object) => [`${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`, object]),
  );

/** The two renders as maps keyed by kind/namespace/name, so a failure names the object that differs. */
function expectSameObjects(fromHelm: readonly ManifestObject[], fromKustomize: readonly ManifestObject[]): void {
  const helmObjects = byKindAndName(fromHelm.map(withoutHelmBookkeeping));
  const kustomizeObjects = byKindAndName(fromKustomize);
  expect([...helmObjects.keys()].sort()).toEqual([...kustomizeObjects.keys()].sort());
  for (const [key, object] of kustomizeObjects) expect(helmObjects.get(key), key).toEqual(object);
}

// Helm installs into the release namespace (`--create-namespace`); the kustomize install brings its Namespace.
const withoutNamespaceObject = (objects: ManifestObject[]) => objects.filter((object) => object.kind !== 'Namespace');

describe('helm lint', () => {
  it('passes in strict mode', () => {
    const linted = helm(['lint', '--strict', CHART]);
    expect(linted.stdout + linted.stderr).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(linted.status).toBe(0);
  });
});

describe('values.schema.json and the chart refuse bad values, naming the field', () => {
  it.each([
    [{ replicaCont: 3 }, /replicaCont/],
    [{ 'image.pullPolicy': 'Sometimes' }, /pullPolicy/],
    [{ watchNamespace: 'Not_A_Namespace' }, /watchNamespace/],
    [{ 'metrics.port': 70000 }, /metrics\.port|port/],
    [{ 'leaderElection.enabled': false }, /leaderElection\.enabled: must be true when replicaCount is more than 1/],
  ])('%o', (values, message) => {
    const rendered = helm(['template', 'workerpool-operator', CHART, ...setFlags(values)]);
    expect(rendered.status).not.toBe(0);
    expect(rendered.stderr).toMatch(message);
  });
});

describe('the chart and the kustomize install render the same objects', () => {
  it('cluster-wide, with the defaults', () => {
    expectSameObjects(helmTemplate(OPERATOR_NAMESPACE), withoutNamespaceObject(kustomize('manifests')));
  });

  it('for one namespace: watchNamespace and overlays/namespaced', () => {
    // The overlay names the namespace through the downward API, which resolves to the same name.
    const fromKustomize = kustomize('manifests/overlays/namespaced').map(
      (object) =>
        JSON.parse(
          JSON.stringify(object).replaceAll('--namespace=$(POD_NAMESPACE)', `--namespace=${OPERATOR_NAMESPACE}`),
        ) as ManifestObject,
    );
    expectSameObjects(helmTemplate(OPERATOR_NAMESPACE, { watchNamespace: OPERATOR_NAMESPACE }), fromKustomize);
  });

  it('with an allow-list of Redis hosts: allowedRedisEndpoints and components/allowed-redis-endpoints', () => {
    // A platform team's own overlay: the install plus the component, as the component's header says.
    const overlay = mkdtempSync(join(tmpdir(), 'workerpool-allowlist-'));
    try {
      writeFileSync(
        join(overlay, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          `resources: [${relative(overlay, MANIFESTS)}]`, // kustomize takes no absolute paths
          `components: [${relative(overlay, join(MANIFESTS, 'components', 'allowed-redis-endpoints'))}]`,
        ].join('\n'),
      );
      const rendered = kubectl(['kustomize', overlay]);
      expect(rendered.stderr).toBe('');
      expectSameObjects(
        helmTemplate(OPERATOR_NAMESPACE, { allowedRedisEndpoints: '{*.svc.cluster.local,10.0.0.0/8}' }),
        withoutNamespaceObject(parseManifests(rendered.stdout)),
      );
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });

  it('with monitoring: serviceMonitor, podMonitor, prometheusRule and dashboard enabled, and overlays/monitoring', () => {
    const monitoring = {
      'serviceMonitor.enabled': true,
      'podMonitor.enabled': true,
      'prometheusRule.enabled': true,
      'dashboard.enabled': true,
    };
    expectSameObjects(
      helmTemplate(OPERATOR_NAMESPACE, monitoring),
      withoutNamespaceObject(kustomize('manifests/overlays/monitoring')),
    );
  });
});

describe('helm template, applied to the real API server in a server-side dry run', () => {
  const kubeConfig = testKubeConfig();
  beforeAll(async () => {
    await ensureNamespace(kubeConfig, OPERATOR_NAMESPACE, { 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  it.each([
    ['the defaults', {}],
    [
      'one watched namespace, another image, no PDB',
      {
        watchNamespace: OPERATOR_NAMESPACE,
        'image.repository': 'registry.example/wpo',
        'image.tag': '9.9.9',
        'podDisruptionBudget.enabled': false,
      },
    ],
    ['one replica without leader election', { replicaCount: 1, 'leaderElection.enabled': false }],
  ])('%s', (_name, values) => {
    const rendered = helm([
      'template',
      'workerpool-operator',
      CHART,
      '--namespace',
      OPERATOR_NAMESPACE,
      ...setFlags(values),
    ]);
    expect(rendered.stderr).toBe('');
    const applied = kubectl(
      ['apply', '--server-side', '--dry-run=server', '--force-conflicts', '-f', '-'],
      rendered.stdout,
    );
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toMatch(/deployment\.apps\/workerpool-operator serverside-applied \(server dry run\)/);
  });
});

describe('helm install / upgrade / uninstall', () => {
  // An API server of this test's own: the release installs the CRD and cluster-wide roles that the
  // shared test API server already holds (other tests apply them), and uninstalling must not pull
  // them from under those tests.
  let cluster: ControlPlane;
  beforeAll(async () => {
    cluster = await startControlPlane();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const release = ['workerpool-operator', CHART, '--namespace', OPERATOR_NAMESPACE];
  const get = (resource: string, jsonpath: string) =>
    cluster.kubectl(['get', resource, '-n', OPERATOR_NAMESPACE, '-o', `jsonpath=${jsonpath}`]);

  it('installs everything, CRD included, into a namespace it creates', () => {
    const installed = helm(['install', ...release, '--create-namespace'], cluster.kubeconfigPath);
    expect(installed.stderr).toBe('');
    expect(installed.stdout).toMatch(/STATUS: deployed/);
    expect(get('deployment/workerpool-operator', '{.spec.replicas}')).toBe('2');
    expect(cluster.kubectl(['get', 'crd', 'workerpools.workerpool.dev', '-o', 'name'])).toBe(
      'customresourcedefinition.apiextensions.k8s.io/workerpools.workerpool.dev\n',
    );
    expect(
      cluster.kubectl(['get', 'clusterrolebinding', 'workerpool-operator', '-o', 'jsonpath={.subjects[0].namespace}']),
    ).toBe(OPERATOR_NAMESPACE);
  });

  it('upgrades in place to one watched namespace, swapping the ClusterRole for a Role', () => {
    const upgraded = helm(
      ['upgrade', ...release, ...setFlags({ watchNamespace: OPERATOR_NAMESPACE, replicaCount: 3 })],
      cluster.kubeconfigPath,
    );
    expect(upgraded.stderr).toBe('');
    expect(upgraded.stdout).toMatch(/REVISION: 2/);
    expect(get('deployment/workerpool-operator', '{.spec.replicas}')).toBe('3');
    expect(get('deployment/workerpool-operator', '{.spec.template.spec.containers[0].args}')).toContain(
      `--namespace=${OPERATOR_NAMESPACE}`,
    );
    expect(get('role/workerpool-operator', '{.metadata.name}')).toBe('workerpool-operator');
    expect(
      cluster
        .kubectl(['get', 'clusterrole', '-l', 'app.kubernetes.io/instance=workerpool-operator', '-o', 'name'])
        .split('\n')
        .filter(Boolean)
        .sort(),
    ).toEqual([
      'clusterrole.rbac.authorization.k8s.io/workerpool-edit',
      'clusterrole.rbac.authorization.k8s.io/workerpool-view',
    ]);
  });

  it('uninstalls the operator and keeps the CRD, and with it every WorkerPool', () => {
    cluster.kubectl(['apply', '-f', '-'], JSON.stringify(templatePool(OPERATOR_NAMESPACE, 'survivor')));
    const uninstalled = helm(
      ['uninstall', 'workerpool-operator', '--namespace', OPERATOR_NAMESPACE],
      cluster.kubeconfigPath,
    );
    expect(uninstalled.stdout + uninstalled.stderr).toMatch(
      /These resources were kept due to the resource policy:\s+\[CustomResourceDefinition\] workerpools\.workerpool\.dev/,
    );
    expect(uninstalled.status).toBe(0);
    expect(
      cluster.kubectl([
        'get',
        'deployments,roles,rolebindings,serviceaccounts,services,poddisruptionbudgets',
        '-n',
        OPERATOR_NAMESPACE,
        '-l',
        'app.kubernetes.io/instance=workerpool-operator',
        '-o',
        'name',
      ]),
    ).toBe('');
    expect(cluster.kubectl(['get', 'workerpool', 'survivor', '-n', OPERATOR_NAMESPACE, '-o', 'name'])).toBe(
      'workerpool.workerpool.dev/survivor\n',
    );
  });
});
