import type { V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubectl, testKubeConfig } from '../harness/cluster.ts';
import { enqueueWork, exampleNativePool } from '../harness/e2e-pool.ts';
import { TEST_IMAGES } from '../harness/images.ts';
import { startBareScenario, type BareScenario } from '../harness/scenario.ts';
import { kustomize, OPERATOR_NAMESPACE, type ManifestObject } from './manifests.ts';

// The install as a platform team runs it: `kubectl apply -k manifests/` with the operator image
// built from operator/Dockerfile. The operator runs as two pods under leader election, with only
// its ServiceAccount's rights, and scales a pool of real worker pods.

/** The base install, pointed at the locally built image and at the API server's address on the pod bridge. */
function installObjects(): ManifestObject[] {
  const server = new URL(testKubeConfig().getCurrentCluster()?.server ?? '');
  return kustomize('manifests')
    .filter((object) => object.kind !== 'CustomResourceDefinition') // installed once for the whole e2e project
    .map((object) => {
      if (object.kind !== 'Deployment') return object;
      for (const container of (object as unknown as V1Deployment).spec?.template.spec?.containers ?? []) {
        container.image = TEST_IMAGES.operator;
        container.imagePullPolicy = 'Never';
        // The test node has no kube-proxy: the kubernetes Service's ClusterIP is not routed.
        container.env = [
          ...(container.env ?? []),
          { name: 'KUBERNETES_SERVICE_HOST', value: server.hostname },
          { name: 'KUBERNETES_SERVICE_PORT', value: server.port },
        ];
      }
      return object;
    });
}

const applied = installObjects();
let scenario: BareScenario | undefined;

beforeAll(() => {
  expect(inject('podHostAddress')).toBeTruthy();
  const result = kubectl(
    ['apply', '--server-side', '-f', '-'],
    applied.map((object) => JSON.stringify(object)).join('\n'),
  );
  expect(result.status, result.stderr).toBe(0);
});
afterAll(async () => {
  await scenario?.close();
  const names = applied
    .filter((object) => !object.metadata.namespace && object.kind !== 'Namespace')
    .map((object) => `${object.kind.toLowerCase()}/${object.metadata.name}`);
  kubectl(['delete', '--ignore-not-found', '--wait=false', ...names]);
  kubectl(['delete', 'namespace', OPERATOR_NAMESPACE, '--ignore-not-found', '--wait=true', '--timeout=90s']);
});

describe('the operator installed from manifests/ as pods of its own image', () => {
  it('becomes Ready as two replicas, one leading, and scales a pool of real worker pods', async () => {
    const rollout = kubectl([
      'rollout',
      'status',
      'deployment/workerpool-operator',
      '-n',
      OPERATOR_NAMESPACE,
      '--timeout=150s',
    ]);
    if (rollout.status !== 0) {
      const pods = kubectl(['get', 'pods', '-n', OPERATOR_NAMESPACE, '-o', 'wide']).stdout;
      const logs = kubectl(['logs', '-n', OPERATOR_NAMESPACE, 'deployment/workerpool-operator', '--tail=30']);
      const events = kubectl(['get', 'events', '-n', OPERATOR_NAMESPACE]).stdout;
      expect.fail(
        `the operator did not roll out: ${rollout.stdout}${rollout.stderr}\n${pods}\n${logs.stdout}${logs.stderr}\n${events}`,
      );
    }
    const lease = () =>
      kubectl(['get', 'lease', '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.items[*].spec.holderIdentity}']).stdout;
    await expect.poll(lease, { timeout: 30_000, interval: 500 }).toMatch(/^workerpool-operator-/);

    scenario = await startBareScenario();
    const s = scenario;
    const watch = s.watch('installed');
    await watch.create(
      exampleNativePool(s.namespace, 'installed', s.redis.url, {
        recordPrefix: s.evidence.prefix,
        scaling: {
          minReplicas: 1,
          maxReplicas: 3,
          concurrency: 2,
          targetLatencySeconds: 5,
          pollIntervalSeconds: 1,
          podStartupSeconds: 5,
        },
      }),
    );
    await expect.poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 }).toBe(1);
    const ids = await enqueueWork(s.redis.url, 'installed', 60, 500);
    await expect.poll(() => watch.specReplicas(), { timeout: 20_000, interval: 250 }).toBeGreaterThan(1);
    await expect.poll(() => s.evidence.unfinished(ids), { timeout: 90_000, interval: 1_000 }).toEqual([]);
    expect(await watch.events()).toContainEqual(
      expect.stringMatching(/^SuccessfulRescale: Scaled Deployment installed from 1 to \d+ replicas/),
    );
  });
});
