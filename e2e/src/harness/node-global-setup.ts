import type { TestProject } from 'vitest/node';
import { OPERATOR_SERVICE_ACCOUNT } from '../install/manifests.ts';
import { writesOfUserPolicy } from '@workerpool/testkit/audit';
import { installCrds } from '@workerpool/testkit/control-plane';
import { buildTestImages } from './images.ts';
import { startNodeCluster } from '@workerpool/testkit/kube-node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where pods reach the host: servers the pods need (Redis) listen on this address too. */
    podHostAddress: string;
    /** The node's folder: its containerd socket, kubelet and containerd logs. */
    nodeDir: string;
    /** The API server's audit log of the installed operator's writes (@workerpool/testkit/audit). */
    auditLogPath: string;
  }
}

/** One real node cluster for the e2e project; each test owns a namespace, a Redis and its queues. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Only the operator installed as pods is audited: what it writes, to prove who wrote when.
  const cluster = await startNodeCluster({
    images: buildTestImages(),
    auditPolicy: writesOfUserPolicy(OPERATOR_SERVICE_ACCOUNT),
  });
  try {
    installCrds(cluster);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  project.provide('kubeconfigPath', cluster.kubeconfigPath);
  project.provide('controlPlaneAssets', cluster.assets);
  project.provide('podHostAddress', cluster.hostAddress);
  project.provide('nodeDir', cluster.nodeDir);
  project.provide('auditLogPath', cluster.auditLogPath ?? '');
  return () => cluster.stop();
}
