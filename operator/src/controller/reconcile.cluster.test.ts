import { AutoscalingV2Api, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubectl } from '@workerpool/testkit/cluster';
import { GROUP, VERSION } from '../api/workerpool-schema.ts';
import { templatePool } from '../testing/fixtures.ts';
import { waitForPolls } from '../testing/loop-evidence.ts';
import { OPERATOR_POLL, useOperatorNamespace } from '../testing/operator-namespace.ts';
import { FIELD_MANAGER, POOL_LABEL } from './labels.ts';

const ns = useOperatorNamespace();
const { apps, getPool, patchPool, createPool, deployment: readDeployment, completeRollout } = ns;
const POLL = OPERATOR_POLL;

/** An HPA on the Deployment: no HPA controller runs here, only the operator's reading of it. */
const createAutoscaler = (name: string, deployment: string) =>
  ns.kubeConfig.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
    namespace: ns.name,
    body: {
      metadata: { name },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment },
        minReplicas: 1,
        maxReplicas: 4,
      },
    },
  });

describe('a template-mode WorkerPool', () => {
  it('yields a Deployment owned by the pool, with standard labels, the pod template and restricted defaults', async () => {
    await createPool(templatePool(ns.name, 'mailers', { scaling: { minReplicas: 2 } }));
    await expect.poll(() => readDeployment('mailers'), POLL).toBeDefined();
    const deployment = (await readDeployment('mailers')) as V1Deployment;
    const pool = await getPool('mailers');

    expect(deployment.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'WorkerPool',
        name: 'mailers',
        uid: pool.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      }),
    ]);
    expect(deployment.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'workerpool-operator',
      'app.kubernetes.io/instance': 'mailers',
      [POOL_LABEL]: 'mailers',
    });
    expect(deployment.metadata?.labels).not.toHaveProperty('team'); // the pool's own labels stay on the pool
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.spec?.template.metadata?.labels).toMatchObject({ tier: 'background', [POOL_LABEL]: 'mailers' });
    const [container] = deployment.spec?.template.spec?.containers ?? [];
    expect(container?.image).toBe('registry.example/mailer:1.0');
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(deployment.spec?.template.spec?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(deployment.metadata?.managedFields?.map((entry) => entry.manager)).toContain(FIELD_MANAGER);
  });

  it('reports progress, then Ready once the rollout completes, for the generation it saw', async () => {
    await expect.poll(async () => (await ns.condition('mailers', 'Reconciling'))?.status, POLL).toBe('True');
    let pool = await getPool('mailers');
    expect(pool.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'RollingOut',
    });

    await completeRollout('mailers');
    await expect.poll(async () => (await ns.condition('mailers', 'Ready'))?.status, POLL).toBe('True');
    pool = await getPool('mailers');
    expect(pool.status).toMatchObject({
      observedGeneration: pool.metadata.generation,
      replicas: 2,
      readyReplicas: 2,
      desiredReplicas: 2,
      selector: `${POOL_LABEL}=mailers`,
      deploymentName: 'mailers',
    });
    expect(pool.status?.conditions?.find((c) => c.type === 'Reconciling')).toBeUndefined();
  });

  it('follows an edit of the pool to the Deployment and records the new generation', async () => {
    const before = await getPool('mailers');
    await patchPool('mailers', {
      spec: { template: { spec: { containers: [{ name: 'worker', image: 'registry.example/mailer:2.0' }] } } },
    });
    await expect
      .poll(async () => (await readDeployment('mailers'))?.spec?.template.spec?.containers[0]?.image, POLL)
      .toBe('registry.example/mailer:2.0');
    await expect
      .poll(async () => (await getPool('mailers')).status?.observedGeneration, POLL)
      .toBe((before.metadata.generation ?? 0) + 1);
  });

  it('puts back a Deployment edited by hand', async () => {
    await apps.patchNamespacedDeployment(
      {
        name: 'mailers',
        namespace: ns.name,
        body: {
          spec: { replicas: 7, template: { spec: { containers: [{ name: 'worker', image: 'hand-edited:latest' }] } } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    await expect
      .poll(async () => (await readDeployment('mailers'))?.spec?.template.spec?.containers[0]?.image, POLL)
      .toBe('registry.example/mailer:2.0');
    expect((await readDeployment('mailers'))?.spec?.replicas).toBe(2);
  });

  it('obeys kubectl scale through the scale subresource, as a manual pin', async () => {
    const scaled = kubectl(['scale', `workerpool/mailers`, '-n', ns.name, '--replicas=4']);
    expect(scaled.stderr).toBe('');
    await expect.poll(async () => (await readDeployment('mailers'))?.spec?.replicas, POLL).toBe(4);
    // The Event is recorded after the Deployment and the status are written, so it may come a moment later.
    const events = async () => (await ns.events('mailers')).map((event) => `${event.reason}: ${event.message}`);
    await expect
      .poll(events, POLL)
      .toContainEqual(expect.stringMatching(/^SuccessfulRescale: Scaled Deployment mailers from 2 to 4 replicas/));
  });

  it('shows Format, Desired, Ready, Depth, Latency and Age in kubectl get wp', () => {
    const table = kubectl(['get', 'wp', '-n', ns.name]);
    expect(table.stdout.split('\n')[0]?.split(/\s{2,}/)).toEqual([
      'NAME',
      'FORMAT',
      'DESIRED',
      'READY',
      'DEPTH',
      'LATENCY',
      'AGE',
    ]);
    expect(table.stdout).toMatch(/mailers\s+native\s+4\s+/);
  });

  it('writes nothing to the API when nothing changed', async () => {
    const writes = async () =>
      (await ns.operator.metrics.apiWrites.get()).values.reduce((sum, sample) => sum + sample.value, 0);
    const reconciles = async () =>
      (await ns.operator.metrics.reconcileTotal.get()).values.reduce((sum, sample) => sum + sample.value, 0);
    const before = await writes();
    const reconciledBefore = await reconciles();
    const pools = ns.operator.controller.pools.list();
    for (const pool of pools) ns.operator.controller.enqueue(pool.metadata.namespace, pool.metadata.name);
    // Evidence that every pass ran (each finished reconcile is counted) before asserting it wrote nothing.
    await expect.poll(reconciles, POLL).toBeGreaterThanOrEqual(reconciledBefore + pools.length);
    expect(await writes()).toBe(before);
  });
});

describe('a WorkerPool whose Deployment the API server refuses', () => {
  it('stalls with one Warning, is not sent again on every poll, and recovers on the next edit', async () => {
    const deploymentApplies = async () =>
      (await ns.operator.metrics.apiWrites.get()).values
        .filter((sample) => sample.labels.kind === 'Deployment')
        .reduce((sum, sample) => sum + sample.value, 0);
    // A closed loopback port: every poll fails at once, and each one asks for the replicas the
    // engine wants (1) against a Deployment that does not exist (0), so each one wakes the reconciler.
    const pool = templatePool(ns.name, 'refused', {
      queue: { format: 'native', names: ['mail'], redis: { url: 'redis://127.0.0.1:1/0' } },
      scaling: { minReplicas: 1, pollIntervalSeconds: 1 },
    });
    const worker = pool.spec.template?.spec?.containers[0];
    if (worker) worker.resources = { requests: { cpu: '2' }, limits: { cpu: '1' } }; // request above limit
    await createPool(pool);
    await expect.poll(async () => (await ns.condition('refused', 'Stalled'))?.reason, POLL).toBe('ApplyRejected');
    expect((await ns.condition('refused', 'Stalled'))?.message).toMatch(/must be less than or equal to cpu limit/);

    const appliesBefore = await deploymentApplies();
    await waitForPolls(ns.operator.metrics, 10);
    expect(await deploymentApplies()).toBe(appliesBefore);
    const warnings = (await ns.events('refused', 'Warning')).filter((event) => event.reason === 'ApplyRejected');
    expect(warnings).toHaveLength(1);

    // The spec is fixed: the new generation is sent at once and the stall clears.
    await patchPool('refused', {
      spec: {
        template: { spec: { containers: [{ name: 'worker', image: 'registry.example/mailer:1.0' }] } },
      },
    });
    await expect.poll(() => readDeployment('refused'), POLL).toBeDefined();
    await expect.poll(async () => (await ns.condition('refused', 'Stalled'))?.status, POLL).toBeUndefined();
  });
});

describe('a scaleTargetRef WorkerPool', () => {
  const sidekiqDeployment = (name: string): V1Deployment => ({
    metadata: { name, namespace: ns.name, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'sidekiq', image: 'rails-app:1', command: ['bundle', 'exec', 'sidekiq'] }] },
      },
    },
  });

  it('scales the referenced Deployment and never rewrites its template', async () => {
    await apps.createNamespacedDeployment({ namespace: ns.name, body: sidekiqDeployment('sidekiq') });
    const pool = templatePool(ns.name, 'sidekiq-pool', { scaling: { minReplicas: 3 } });
    delete pool.spec.template;
    pool.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'sidekiq' };
    pool.spec.queue = { format: 'sidekiq', names: ['default'], redis: { url: 'redis://redis:6379/0' } };
    await createPool(pool);

    await expect.poll(async () => (await readDeployment('sidekiq'))?.spec?.replicas, POLL).toBe(3);
    const deployment = await readDeployment('sidekiq');
    expect(deployment?.spec?.template.spec?.containers[0]?.image).toBe('rails-app:1');
    expect(deployment?.spec?.template.spec?.securityContext?.runAsNonRoot).toBeUndefined();
    expect(deployment?.metadata?.ownerReferences).toBeUndefined();
    const owned = deployment?.metadata?.managedFields?.find((entry) => entry.manager === FIELD_MANAGER);
    expect(JSON.stringify(owned?.fieldsV1)).toBe('{"f:spec":{"f:replicas":{}}}');
    await expect.poll(async () => (await getPool('sidekiq-pool')).status?.selector, POLL).toBe('app=sidekiq');
  });

  it('stalls with a reason and an event while the target does not exist, and recovers when it appears', async () => {
    const pool = templatePool(ns.name, 'orphan-pool');
    delete pool.spec.template;
    pool.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'not-yet' };
    await createPool(pool);
    await expect
      .poll(async () => (await ns.condition('orphan-pool', 'Stalled'))?.reason, POLL)
      .toBe('ScaleTargetNotFound');
    expect((await ns.events('orphan-pool')).map((event) => event.reason)).toContain('ScaleTargetNotFound');

    await apps.createNamespacedDeployment({ namespace: ns.name, body: sidekiqDeployment('not-yet') });
    await expect.poll(() => ns.condition('orphan-pool', 'Stalled'), POLL).toBeUndefined();
    expect((await readDeployment('not-yet'))?.spec?.replicas).toBe(1);
  });

  it('refuses a Deployment another pool already scales, naming that pool, and takes it over once that pool is gone', async () => {
    // Created within the same second as sidekiq-pool (creationTimestamp has whole seconds): the
    // tie goes by name, which every operator replica reads alike, so this one sorts after it.
    const second = templatePool(ns.name, 'tardy-pool', { scaling: { minReplicas: 5 } });
    delete second.spec.template;
    second.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'sidekiq' };
    second.spec.queue = { format: 'sidekiq', names: ['default'], redis: { url: 'redis://redis:6379/0' } };
    await createPool(second);
    await expect
      .poll(async () => (await ns.condition('tardy-pool', 'Stalled'))?.reason, POLL)
      .toBe('ScaleTargetClaimed');
    expect((await ns.condition('tardy-pool', 'Stalled'))?.message).toMatch(
      /already scaled by WorkerPool .*\/sidekiq-pool \(the first pool to name it\)/,
    );
    expect((await readDeployment('sidekiq'))?.spec?.replicas).toBe(3); // still the first pool's decision

    await ns.custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'workerpools',
      namespace: ns.name,
      name: 'sidekiq-pool',
    });
    await expect.poll(async () => (await readDeployment('sidekiq'))?.spec?.replicas, POLL).toBe(5);
    await expect.poll(() => ns.condition('tardy-pool', 'Stalled'), POLL).toBeUndefined();
  });

  it('refuses a Deployment a HorizontalPodAutoscaler drives, naming the HPA, with one Warning', async () => {
    await apps.createNamespacedDeployment({ namespace: ns.name, body: sidekiqDeployment('hpa-driven') });
    await createAutoscaler('web-hpa', 'hpa-driven');
    const pool = templatePool(ns.name, 'hpa-pool', { scaling: { minReplicas: 3 } });
    delete pool.spec.template;
    pool.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hpa-driven' };
    pool.spec.queue.redis.url = 'redis://127.0.0.1:1/0'; // polls fail at once: only the loop's turning matters
    await createPool(pool);
    await expect.poll(async () => (await ns.condition('hpa-pool', 'Stalled'))?.reason, POLL).toBe('ScaleTargetClaimed');
    expect((await ns.condition('hpa-pool', 'Stalled'))?.message).toMatch(/HorizontalPodAutoscaler .*\/web-hpa/);
    await waitForPolls(ns.operator.metrics, 3);
    expect((await readDeployment('hpa-driven'))?.spec?.replicas).toBe(1);
    expect((await ns.events('hpa-pool', 'Warning')).filter((e) => e.reason === 'ScaleTargetClaimed')).toHaveLength(1);
  });

  it('stops scaling its own Deployment while an HPA drives it, and takes it back when the HPA goes', async () => {
    await createPool(templatePool(ns.name, 'hpa-owned', { scaling: { minReplicas: 2 } }));
    await expect.poll(async () => (await readDeployment('hpa-owned'))?.spec?.replicas, POLL).toBe(2);
    await createAutoscaler('stray-hpa', 'hpa-owned');
    await expect
      .poll(async () => (await ns.condition('hpa-owned', 'Stalled'))?.reason, POLL)
      .toBe('ScaleTargetClaimed');
    expect((await ns.condition('hpa-owned', 'Stalled'))?.message).toMatch(/HorizontalPodAutoscaler .*\/stray-hpa/);
    // Another driver of the replicas (the HPA controller is not running here): the operator leaves them.
    await apps.patchNamespacedDeployment(
      { namespace: ns.name, name: 'hpa-owned', body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitForPolls(ns.operator.metrics, 3);
    expect((await readDeployment('hpa-owned'))?.spec?.replicas).toBe(3);

    await ns.kubeConfig
      .makeApiClient(AutoscalingV2Api)
      .deleteNamespacedHorizontalPodAutoscaler({ namespace: ns.name, name: 'stray-hpa' });
    await expect.poll(() => ns.condition('hpa-owned', 'Stalled'), POLL).toBeUndefined();
    // Its own again: the scale-down window keeps 3 for now, and a higher floor is applied.
    await patchPool('hpa-owned', { spec: { scaling: { minReplicas: 4 } } });
    await expect.poll(async () => (await readDeployment('hpa-owned'))?.spec?.replicas, POLL).toBe(4);
  });
});
