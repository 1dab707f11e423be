import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
  V1MicroTime,
  type KubeConfig,
  type V1Deployment,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type WorkerPool } from '@workerpool/operator/api/workerpool-schema';
import { KubeClient, POD_DELETION_COST } from '@workerpool/operator/controller/kube-client';
import { buildWorkerDeployment } from '@workerpool/operator/controller/desired-deployment';
import { apiMessage, httpStatus } from '@workerpool/operator/controller/kube-errors';
import { FIELD_MANAGER, POOL_LABEL } from '@workerpool/operator/controller/labels';
import type { RunningOperator } from '@workerpool/operator/operator';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { startOperatorForNamespace } from '@workerpool/operator/testing/operator-under-test';
import { createTestNamespace, kubectl, testKubeConfig, type TestNamespace } from '@workerpool/testkit/cluster';
import { MANIFESTS, OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT } from './manifests.ts';
import { canI, serviceAccountKubeConfig } from './service-account.ts';

// Least privilege, proven both ways on the real API server: the operator, running with a token of
// the ServiceAccount the manifests create and nothing else, does all of its work; and everything
// outside its rules is refused.

const admin = testKubeConfig();
const apps = admin.makeApiClient(AppsV1Api);
const core = admin.makeApiClient(CoreV1Api);
const custom = admin.makeApiClient(CustomObjectsApi);
const POLL = { timeout: 20_000, interval: 100 };
const REDIS_PASSWORD = 's3cret-for-rbac-test';

function installForReal(kustomization: string): void {
  const applied = kubectl(['apply', '--server-side', '-k', kustomization]);
  expect(applied.stderr, `kubectl apply -k ${kustomization}`).toBe('');
}

const poolRef = (namespace: string, name: string) => ({
  group: GROUP,
  version: VERSION,
  plural: PLURAL,
  namespace,
  name,
});
const getPool = async (namespace: string, name: string) =>
  (await custom.getNamespacedCustomObject(poolRef(namespace, name))) as WorkerPool;
const readDeployment = (namespace: string, name: string) =>
  apps.readNamespacedDeployment({ namespace, name }).catch(() => undefined);

/** A template-mode pool whose Redis password lives in a Secret, as a real one would. */
async function createPoolWithSecret(namespace: string, name: string): Promise<void> {
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'redis-auth' }, stringData: { password: REDIS_PASSWORD } },
  });
  const pool = templatePool(namespace, name, { scaling: { minReplicas: 2 } });
  pool.spec.queue.redis.passwordSecretRef = { name: 'redis-auth', key: 'password' };
  await custom.createNamespacedCustomObject({ ...poolRef(namespace, ''), body: pool });
}

/** What one reconcile pass of a template-mode pool must leave behind, all written by the operator. */
async function expectReconciled(namespace: string, name: string): Promise<void> {
  await expect.poll(() => readDeployment(namespace, name), POLL).toBeDefined();
  const deployment = (await readDeployment(namespace, name)) as V1Deployment;
  expect(deployment.metadata?.managedFields?.map((entry) => entry.manager)).toContain(FIELD_MANAGER);
  await expect
    .poll(async () => (await getPool(namespace, name)).status?.observedGeneration, POLL)
    .toBe((await getPool(namespace, name)).metadata.generation);
  expect((await getPool(namespace, name)).status?.conditions?.map((condition) => condition.type)).toContain('Ready');
  await expect
    .poll(
      async () =>
        (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items.map(
          (event) => event.reason,
        ),
      POLL,
    )
    .toContain('DeploymentCreated');
}

async function reconcileErrors(operator: RunningOperator): Promise<number> {
  return (await operator.metrics.reconcileTotal.get()).values
    .filter((sample) => sample.labels['result'] === 'error')
    .reduce((sum, sample) => sum + sample.value, 0);
}

describe('the cluster-wide install (manifests/)', () => {
  let namespace: TestNamespace;
  let asOperator: KubeConfig;
  let operator: RunningOperator;

  beforeAll(async () => {
    installForReal(MANIFESTS);
    namespace = await createTestNamespace(admin);
    asOperator = await serviceAccountKubeConfig(OPERATOR_NAMESPACE, 'workerpool-operator');
    operator = await startOperatorForNamespace(asOperator, namespace.name);
  });
  afterAll(async () => {
    await operator?.stop();
    await namespace?.delete();
  });

  it('lets the operator reconcile a pool as its ServiceAccount: Deployment applied, status written, event recorded', async () => {
    await createPoolWithSecret(namespace.name, 'mailers');
    await expectReconciled(namespace.name, 'mailers');
  });

  it('lets the operator scale a Deployment named in scaleTargetRef', async () => {
    await apps.createNamespacedDeployment({
      namespace: namespace.name,
      body: {
        metadata: { name: 'sidekiq' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'sidekiq' } },
          template: {
            metadata: { labels: { app: 'sidekiq' } },
            spec: { containers: [{ name: 'sidekiq', image: 'rails-app:1' }] },
          },
        },
      },
    });
    const pool = templatePool(namespace.name, 'sidekiq', { scaling: { minReplicas: 3 } });
    delete pool.spec.template;
    pool.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'sidekiq' };
    pool.spec.queue = { format: 'sidekiq', names: ['default'], redis: { url: 'redis://redis:6379/0' } };
    await custom.createNamespacedCustomObject({ ...poolRef(namespace.name, ''), body: pool });
    await expect.poll(async () => (await readDeployment(namespace.name, 'sidekiq'))?.spec?.replicas, POLL).toBe(3);
  });

  it('lets the operator read the Redis password from the Secret a pool names', async () => {
    const client = new KubeClient(asOperator, operator.metrics, 'rbac-test');
    expect(await client.readSecretValue(namespace.name, 'redis-auth', 'password')).toBe(REDIS_PASSWORD);
  });

  it("lets the operator list a pool's pods and set their deletion cost, as idle-first scale-down does", async () => {
    // No ReplicaSet controller runs here: the pod a worker Deployment would have is made by hand.
    await core.createNamespacedPod({
      namespace: namespace.name,
      body: {
        metadata: { name: 'mailers-7f9c-x', labels: { [POOL_LABEL]: 'mailers' } },
        spec: { containers: [{ name: 'worker', image: 'worker:1' }] },
      },
    });
    const client = new KubeClient(asOperator, operator.metrics, 'rbac-test');
    const pods = await client.listPods(namespace.name, { [POOL_LABEL]: 'mailers' });
    expect(pods.map((pod) => pod.metadata?.name)).toEqual(['mailers-7f9c-x']);
    await client.setPodDeletionCost(namespace.name, 'mailers-7f9c-x', 5);
    const patched = await core.readNamespacedPod({ namespace: namespace.name, name: 'mailers-7f9c-x' });
    expect(patched.metadata?.annotations?.[POD_DELETION_COST]).toBe('5');
  });

  // The API server runs OwnerReferencesPermissionEnforcement (testkit/src/control-plane.ts).
  it('creates owned Deployments under OwnerReferencesPermissionEnforcement, which refuses them without the finalizers rule', async () => {
    const owned = (await readDeployment(namespace.name, 'mailers')) as V1Deployment;
    expect(owned.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'WorkerPool', name: 'mailers', controller: true, blockOwnerDeletion: true }),
    ]);
    // The control: every rule the operator needs for this apply except workerpools/finalizers.
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const name = 'no-finalizers';
    await core.createNamespacedServiceAccount({ namespace: namespace.name, body: { metadata: { name } } });
    await rbac.createNamespacedRole({
      namespace: namespace.name,
      body: {
        metadata: { name },
        rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'patch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: namespace.name,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace: namespace.name }],
      },
    });
    const withoutFinalizers = new KubeClient(
      await serviceAccountKubeConfig(namespace.name, name),
      operator.metrics,
      'rbac-test',
    );
    // The worker Deployment the operator would apply for the pool, under another name.
    const copy = buildWorkerDeployment(await getPool(namespace.name, 'mailers'), 2);
    copy.metadata = { ...copy.metadata, name: 'mailers-copy' };
    const refused = await withoutFinalizers.applyDeployment(copy).then(
      () => 'applied',
      (error: unknown) => `${httpStatus(error)} ${apiMessage(error)}`,
    );
    expect(refused).toMatch(/^403 .*blockOwnerDeletion/);
  });

  it('met no refusal in any reconcile', async () => {
    expect(await reconcileErrors(operator)).toBe(0);
  });

  it('lets the operator create, read and renew its leader-election Lease, in its own namespace', async () => {
    const leases = asOperator.makeApiClient(CoordinationV1Api);
    const name = 'workerpool-operator';
    // MicroTime, not Date: the API server rejects a Lease time with milliseconds only.
    const spec = { holderIdentity: 'rbac-test', leaseDurationSeconds: 15, renewTime: new V1MicroTime() };
    await leases
      .createNamespacedLease({ namespace: OPERATOR_NAMESPACE, body: { metadata: { name }, spec } })
      .catch((error: unknown) => {
        if (httpStatus(error) !== 409) throw error; // a Lease left by another run of the operator is fine
      });
    const lease = await leases.readNamespacedLease({ namespace: OPERATOR_NAMESPACE, name });
    lease.spec = { ...lease.spec, holderIdentity: 'rbac-test', renewTime: new V1MicroTime() };
    const renewed = await leases.replaceNamespacedLease({ namespace: OPERATOR_NAMESPACE, name, body: lease });
    expect(renewed.spec?.holderIdentity).toBe('rbac-test');
  });

  // Each line: what the operator does, and the `kubectl auth can-i` arguments for it.
  const allowed: [string, string[]][] = [
    ['watches WorkerPools in every namespace', ['watch', 'workerpools.workerpool.dev', '-A']],
    ['lists WorkerPools in every namespace', ['list', 'workerpools.workerpool.dev', '-A']],
    ['applies WorkerPool status', ['patch', 'workerpools.workerpool.dev', '--subresource=status', '-n', 'default']],
    [
      'blocks owner deletion from what it owns (finalizers of a pool)',
      ['update', 'workerpools.workerpool.dev', '--subresource=finalizers', '-n', 'default'],
    ],
    ['watches Deployments in every namespace', ['watch', 'deployments.apps', '-A']],
    ['creates a worker Deployment by server-side apply', ['create', 'deployments.apps', '-n', 'default']],
    ['applies a Deployment', ['patch', 'deployments.apps', '-n', 'default']],
    ["lists a pool's Pods before scaling it down", ['list', 'pods', '-n', 'default']],
    ['sets pod-deletion-cost on them', ['patch', 'pods', '-n', 'default']],
    ['records Events', ['create', 'events', '-n', 'default']],
    ['reads a named Secret', ['get', 'secrets/redis-auth', '-n', 'default']],
    ['reads its Lease', ['get', 'leases.coordination.k8s.io/workerpool-operator', '-n', OPERATOR_NAMESPACE]],
    ['renews its Lease', ['update', 'leases.coordination.k8s.io/workerpool-operator', '-n', OPERATOR_NAMESPACE]],
    ['creates its Lease', ['create', 'leases.coordination.k8s.io', '-n', OPERATOR_NAMESPACE]],
  ];
  it.each(allowed)('allows what it needs: %s', (_what, args) => {
    expect(canI(OPERATOR_SERVICE_ACCOUNT, args)).toBe(true);
  });

  const denied: [string, string[]][] = [
    [
      'deleting Deployments (the garbage collector removes owned ones)',
      ['delete', 'deployments.apps', '-n', 'default'],
    ],
    ['replacing Deployments (apply is a patch)', ['update', 'deployments.apps', '-n', 'default']],
    [
      'scaling Deployments through the scale subresource',
      ['update', 'deployments.apps', '--subresource=scale', '-n', 'default'],
    ],
    ['listing Secrets', ['list', 'secrets', '-n', 'default']],
    ['watching Secrets', ['watch', 'secrets', '-A']],
    ['writing Secrets', ['create', 'secrets', '-n', 'default']],
    [
      'reading a WorkerPool from the API (the cache serves reconciles)',
      ['get', 'workerpools.workerpool.dev', '-n', 'default'],
    ],
    ['reading a Pod', ['get', 'pods', '-n', 'default']],
    ['watching Pods', ['watch', 'pods', '-A']],
    ['creating Pods', ['create', 'pods', '-n', 'default']],
    ['deleting Pods', ['delete', 'pods', '-n', 'default']],
    ['evicting Pods', ['create', 'pods/eviction', '-n', 'default']],
    ['exec into Pods', ['create', 'pods/exec', '-n', 'default']],
    ['reading ConfigMaps', ['get', 'configmaps', '-n', 'default']],
    ['creating WorkerPools', ['create', 'workerpools.workerpool.dev', '-n', 'default']],
    ['editing a WorkerPool spec', ['patch', 'workerpools.workerpool.dev', '-n', 'default']],
    ['deleting WorkerPools', ['delete', 'workerpools.workerpool.dev', '-n', 'default']],
    ['editing or deleting Events', ['delete', 'events', '-n', 'default']],
    [
      'another Lease in its namespace',
      ['update', 'leases.coordination.k8s.io/kube-scheduler', '-n', OPERATOR_NAMESPACE],
    ],
    ['Leases outside its namespace', ['create', 'leases.coordination.k8s.io', '-n', 'default']],
    ['granting rights', ['create', 'rolebindings.rbac.authorization.k8s.io', '-n', 'default']],
    ['minting tokens', ['create', 'serviceaccounts/token', '-n', OPERATOR_NAMESPACE]],
    ['impersonation', ['impersonate', 'users']],
    ['changing CRDs', ['patch', 'customresourcedefinitions.apiextensions.k8s.io']],
    ['reading Nodes', ['list', 'nodes']],
  ];
  it.each(denied)('refuses what it does not need: %s', (_what, args) => {
    expect(canI(OPERATOR_SERVICE_ACCOUNT, args)).toBe(false);
  });

  it('is refused by the API server when it tries, not only on paper', async () => {
    const appsAsOperator = asOperator.makeApiClient(AppsV1Api);
    const coreAsOperator = asOperator.makeApiClient(CoreV1Api);
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => 'allowed',
        (error: unknown) => httpStatus(error),
      );
    expect(
      await refusal(appsAsOperator.deleteNamespacedDeployment({ namespace: namespace.name, name: 'mailers' })),
    ).toBe(403);
    expect(await refusal(coreAsOperator.listNamespacedSecret({ namespace: namespace.name }))).toBe(403);
    expect(
      await refusal(
        coreAsOperator.createNamespacedPod({
          namespace: namespace.name,
          body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
        }),
      ),
    ).toBe(403);
  });
});

describe('the namespaced install (manifests/overlays/namespaced)', () => {
  let namespace: TestNamespace;
  let other: TestNamespace;
  let scratch: string;
  let asOperator: KubeConfig;
  let operator: RunningOperator;
  let user: string;

  beforeAll(async () => {
    namespace = await createTestNamespace(admin);
    other = await createTestNamespace(admin);
    // What the overlay tells a team to do: a copy whose namespace is set to the team's own.
    scratch = mkdtempSync(join(tmpdir(), 'workerpool-namespaced-'));
    const overlay = relative(scratch, join(MANIFESTS, 'overlays', 'namespaced'));
    writeFileSync(join(scratch, 'kustomization.yaml'), `namespace: ${namespace.name}\nresources:\n  - ${overlay}\n`);
    installForReal(scratch);
    user = `system:serviceaccount:${namespace.name}:workerpool-operator`;
    asOperator = await serviceAccountKubeConfig(namespace.name, 'workerpool-operator');
    operator = await startOperatorForNamespace(asOperator, namespace.name);
  });
  afterAll(async () => {
    await operator?.stop();
    await namespace?.delete();
    await other?.delete();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('lets the operator reconcile a pool in its own namespace', async () => {
    await createPoolWithSecret(namespace.name, 'reports');
    await expectReconciled(namespace.name, 'reports');
    expect(
      await new KubeClient(asOperator, operator.metrics, 'rbac-test').readSecretValue(
        namespace.name,
        'redis-auth',
        'password',
      ),
    ).toBe(REDIS_PASSWORD);
    expect(await reconcileErrors(operator)).toBe(0);
  });

  it('grants nothing outside that namespace', () => {
    expect(canI(user, ['list', 'workerpools.workerpool.dev', '-n', namespace.name])).toBe(true);
    expect(canI(user, ['list', 'workerpools.workerpool.dev', '-A'])).toBe(false);
    expect(canI(user, ['list', 'workerpools.workerpool.dev', '-n', other.name])).toBe(false);
    expect(canI(user, ['patch', 'deployments.apps', '-n', other.name])).toBe(false);
    expect(canI(user, ['get', 'secrets', '-n', other.name])).toBe(false);
    expect(canI(user, ['update', 'leases.coordination.k8s.io/workerpool-operator', '-n', namespace.name])).toBe(true);
  });
});
