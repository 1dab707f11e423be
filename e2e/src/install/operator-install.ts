import type { V1Deployment } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { kubectl, testKubeConfig } from '@workerpool/testkit/cluster';
import { TEST_IMAGES } from '../harness/images.ts';
import { kustomize, OPERATOR_NAMESPACE, type ManifestObject } from './manifests.ts';

// The install as a platform team runs it, `kubectl apply -k manifests/`, on the test node: the
// operator image built from operator/Dockerfile, two replicas under leader election.

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

export interface OperatorInstall {
  /** Waits until both replicas are Ready, failing with their pods, logs and events if they are not. */
  rolledOut(): void;
  /** Removes what install() applied, the operator's namespace last. */
  uninstall(): void;
}

/** Applies the install; on a refusal removes what was applied and fails with kubectl's message. */
export function installOperator(): OperatorInstall {
  const applied = installObjects();
  const install: OperatorInstall = {
    rolledOut() {
      const rollout = kubectl([
        'rollout',
        'status',
        'deployment/workerpool-operator',
        '-n',
        OPERATOR_NAMESPACE,
        '--timeout=150s',
      ]);
      if (rollout.status === 0) return;
      const pods = kubectl(['get', 'pods', '-n', OPERATOR_NAMESPACE, '-o', 'wide']).stdout;
      const logs = kubectl(['logs', '-n', OPERATOR_NAMESPACE, 'deployment/workerpool-operator', '--tail=30']);
      const events = kubectl(['get', 'events', '-n', OPERATOR_NAMESPACE]).stdout;
      expect.fail(
        `the operator did not roll out: ${rollout.stdout}${rollout.stderr}\n${pods}\n${logs.stdout}${logs.stderr}\n${events}`,
      );
    },
    uninstall() {
      const names = applied
        .filter((object) => !object.metadata.namespace && object.kind !== 'Namespace')
        .map((object) => `${object.kind.toLowerCase()}/${object.metadata.name}`);
      kubectl(['delete', '--ignore-not-found', '--wait=false', ...names]);
      kubectl(['delete', 'namespace', OPERATOR_NAMESPACE, '--ignore-not-found', '--wait=true', '--timeout=90s']);
    },
  };
  const result = kubectl(
    ['apply', '--server-side', '-f', '-'],
    applied.map((object) => JSON.stringify(object)).join('\n'),
  );
  if (result.status !== 0) {
    install.uninstall();
    expect.fail(`kubectl apply of manifests/ failed: ${result.stderr}`);
  }
  return install;
}

/** The replica holding the operator's Lease (its pod name), or '' while none does. */
export function leaseHolder(): string {
  return kubectl(['get', 'lease', '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.items[*].spec.holderIdentity}']).stdout;
}
