import { AppsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type WorkerPool } from '@workerpool/operator/api/workerpool-schema';
import type { RunningOperator } from '@workerpool/operator/operator';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { startOperatorForNamespace } from '@workerpool/operator/testing/operator-under-test';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '../harness/cluster.ts';
import { argoHealth } from './argocd-health.ts';
import { fluxHealth } from './flux-health.ts';

// What GitOps tools conclude about WorkerPools the real operator wrote to the real API server,
// computed by their own libraries: Flux's kstatus (sigs.k8s.io/cli-utils) and Argo CD's Lua VM
// (gopher-lua) running manifests/argocd/health.lua. Progressing while the pool reconciles, healthy
// once it is ready, failed when it is stalled.

const kubeConfig = testKubeConfig();
const apps = kubeConfig.makeApiClient(AppsV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const POLL = { timeout: 20_000, interval: 100 };

let namespace: TestNamespace;
let operator: RunningOperator;
beforeAll(async () => {
  namespace = await createTestNamespace(kubeConfig);
  operator = await startOperatorForNamespace(kubeConfig, namespace.name);
});
afterAll(async () => {
  await operator?.stop();
  await namespace?.delete();
});

const ref = (name: string) => ({ group: GROUP, version: VERSION, plural: PLURAL, namespace: namespace.name, name });

/** Both verdicts on the pool as it is now on the API server, e.g. "InProgress / Progressing". */
async function verdicts(name: string): Promise<string> {
  const pool = (await custom.getNamespacedCustomObject(ref(name))) as WorkerPool;
  return `${fluxHealth(pool).status} / ${argoHealth(pool).status}`;
}

/** Plays kube-controller-manager, which this API server runs without: the rollout of `image` completes. */
async function completeRollout(name: string, replicas: number, image: string): Promise<void> {
  const deployed = () => apps.readNamespacedDeployment({ namespace: namespace.name, name }).catch(() => undefined);
  await expect.poll(async () => (await deployed())?.spec?.template.spec?.containers[0]?.image, POLL).toBe(image);
  const deployment = await apps.readNamespacedDeployment({ namespace: namespace.name, name });
  const status = {
    observedGeneration: deployment.metadata?.generation,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
  };
  await apps.patchNamespacedDeploymentStatus({ namespace: namespace.name, name, body: { status } }, mergePatch);
}

describe('Flux (kstatus) and Argo CD (gopher-lua) on the statuses the operator writes', () => {
  it('a new pool is InProgress / Progressing until its workers are ready, then Current / Healthy', async () => {
    await custom.createNamespacedCustomObject({
      ...ref(''),
      body: templatePool(namespace.name, 'mailers', { scaling: { minReplicas: 2 } }),
    });
    await expect.poll(() => verdicts('mailers'), POLL).toBe('InProgress / Progressing');
    const pool = (await custom.getNamespacedCustomObject(ref('mailers'))) as WorkerPool;
    expect(fluxHealth(pool).message).not.toBe('');

    await completeRollout('mailers', 2, 'registry.example/mailer:1.0');
    await expect.poll(() => verdicts('mailers'), POLL).toBe('Current / Healthy');
  });

  it('a new worker image is InProgress / Progressing again until it has rolled out', async () => {
    const image = 'registry.example/mailer:1.1';
    await custom.patchNamespacedCustomObject(
      { ...ref('mailers'), body: { spec: { template: { spec: { containers: [{ name: 'worker', image }] } } } } },
      mergePatch,
    );
    await expect.poll(() => verdicts('mailers'), POLL).toBe('InProgress / Progressing');
    await completeRollout('mailers', 2, image);
    await expect.poll(() => verdicts('mailers'), POLL).toBe('Current / Healthy');
  });

  it('a paused pool is Suspended for Argo CD; for Flux it is Current: frozen on purpose, not failing', async () => {
    await custom.patchNamespacedCustomObject({ ...ref('mailers'), body: { spec: { paused: true } } }, mergePatch);
    await expect.poll(() => verdicts('mailers'), POLL).toBe('Current / Suspended');
  });

  it('a pool whose scale target does not exist is Failed / Degraded, with the reason in both messages', async () => {
    const pool = templatePool(namespace.name, 'orphan');
    delete pool.spec.template;
    pool.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'missing' };
    await custom.createNamespacedCustomObject({ ...ref(''), body: pool });
    await expect.poll(() => verdicts('orphan'), POLL).toBe('Failed / Degraded');
    const live = (await custom.getNamespacedCustomObject(ref('orphan'))) as WorkerPool;
    expect(fluxHealth(live).message).toMatch(/missing/);
    expect(argoHealth(live).message).toMatch(/^ScaleTargetNotFound: .*missing/);
  });
});
