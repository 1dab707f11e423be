import { join } from 'node:path';
import { AppsV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION } from '@workerpool/operator/api/workerpool-schema';
import type { RunningOperator } from '@workerpool/operator/operator';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { startOperatorForNamespace } from '@workerpool/operator/testing/operator-under-test';
import { startControlPlane, type ControlPlane } from './harness/control-plane.ts';

// client-node's informer stops for good when a watch fails with anything but 410 Gone. This
// restarts the API server under a running operator (every watch breaks, and the first re-lists
// are refused) and checks that the operator notices a pool created afterwards.

let controlPlane: ControlPlane;
let operator: RunningOperator;
let kubeConfig: KubeConfig;

beforeAll(async () => {
  controlPlane = await startControlPlane();
  controlPlane.kubectl(['apply', '--server-side', '-f', join(import.meta.dirname, '..', '..', 'crds')]);
  controlPlane.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/workerpools.workerpool.dev']);
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
  operator = await startOperatorForNamespace(kubeConfig, 'default');
});
afterAll(async () => {
  await operator?.stop();
  await controlPlane?.stop();
});

describe('watches across an API server restart', () => {
  it('resumes watching and reconciles a pool created after the restart', async () => {
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const create = (name: string) =>
      custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: 'default',
        body: templatePool('default', name),
      });
    const deploymentExists = (name: string) =>
      apps.readNamespacedDeployment({ name, namespace: 'default' }).then(
        () => true,
        () => false,
      );

    await create('before-restart');
    await expect.poll(() => deploymentExists('before-restart'), { timeout: 20_000 }).toBe(true);

    await controlPlane.restartApiServer();
    await create('after-restart');
    await expect.poll(() => deploymentExists('after-restart'), { timeout: 60_000, interval: 250 }).toBe(true);

    // And a hand edit after the restart is still put back: the Deployment watch came back too.
    await apps.deleteNamespacedDeployment({ name: 'before-restart', namespace: 'default' });
    await expect.poll(() => deploymentExists('before-restart'), { timeout: 30_000, interval: 250 }).toBe(true);
  });
});
