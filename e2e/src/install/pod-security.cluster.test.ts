import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type V1Deployment,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION } from '@workerpool/operator/api/workerpool-schema';
import { apiMessage } from '@workerpool/operator/controller/kube-errors';
import type { RunningOperator } from '@workerpool/operator/operator';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { startOperatorForNamespace } from '@workerpool/operator/testing/operator-under-test';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '@workerpool/testkit/cluster';
import { findObject, kustomize } from './manifests.ts';

// Pod Security "restricted", judged by the API server's own PodSecurity admission in a namespace
// that enforces it. The test API server runs no ReplicaSet controller, so the test does what it
// would: make a Pod from the Deployment's template, here as a server-side dry run.

const kubeConfig = testKubeConfig();
const apps = kubeConfig.makeApiClient(AppsV1Api);
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const POLL = { timeout: 20_000, interval: 100 };

let restricted: TestNamespace;
let operator: RunningOperator;

beforeAll(async () => {
  restricted = await createTestNamespace(kubeConfig, {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'latest',
  });
  operator = await startOperatorForNamespace(kubeConfig, restricted.name);
});
afterAll(async () => {
  await operator?.stop();
  await restricted?.delete();
});

/** Creates (dry run) the Pod a ReplicaSet would make from this template; resolves to the refusal, or 'admitted'. */
async function admitPod(template: V1PodTemplateSpec, name: string): Promise<string> {
  if (!template.spec) throw new Error('a pod template without spec');
  try {
    await core.createNamespacedPod({
      namespace: restricted.name,
      dryRun: 'All',
      body: {
        metadata: {
          generateName: `${name}-`,
          labels: template.metadata?.labels,
          annotations: template.metadata?.annotations,
        },
        spec: template.spec,
      },
    });
    return 'admitted';
  } catch (error) {
    return apiMessage(error);
  }
}

describe('Pod Security "restricted"', () => {
  it("admits the operator's own pod as the install defines it", async () => {
    const deployment = findObject(
      kustomize('manifests'),
      'Deployment',
      'workerpool-operator',
    ) as unknown as V1Deployment;
    const template = deployment.spec?.template as V1PodTemplateSpec;
    expect(await admitPod(template, 'workerpool-operator')).toBe('admitted');
    // Beyond "restricted": nothing in the container may write to its image.
    expect(template.spec?.containers.map((container) => container.securityContext?.readOnlyRootFilesystem)).toEqual([
      true,
    ]);
  });

  it('admits the worker pods the operator builds from a template that says nothing about security', async () => {
    const pool = templatePool(restricted.name, 'plain');
    pool.spec.template = {
      spec: {
        initContainers: [{ name: 'migrate', image: 'registry.example/mailer:1.0', command: ['bin/migrate'] }],
        containers: [{ name: 'worker', image: 'registry.example/mailer:1.0' }],
      },
    };
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: restricted.name,
      body: pool,
    });
    await expect
      .poll(
        () => apps.readNamespacedDeployment({ namespace: restricted.name, name: 'plain' }).catch(() => undefined),
        POLL,
      )
      .toBeDefined();
    const deployment = await apps.readNamespacedDeployment({ namespace: restricted.name, name: 'plain' });

    expect(await admitPod(deployment.spec?.template as V1PodTemplateSpec, 'plain')).toBe('admitted');
    // The same template without the operator's defaults is refused: the namespace really enforces.
    expect(await admitPod(pool.spec.template, 'raw')).toMatch(/violates PodSecurity "restricted:latest"/);
  });
});
