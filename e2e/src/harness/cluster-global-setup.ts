import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startControlPlane } from './control-plane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Kubeconfig of the real API server the cluster tests share; each test owns a namespace. */
    kubeconfigPath: string;
    /** Folder of kube-apiserver, etcd, kubectl and kube-controller-manager. */
    controlPlaneAssets: string;
  }
}

const CRD_FOLDER = join(import.meta.dirname, '..', '..', '..', 'crds');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const controlPlane = await startControlPlane();
  try {
    controlPlane.kubectl(['apply', '--server-side', '-f', CRD_FOLDER]);
    controlPlane.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/workerpools.workerpool.dev']);
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
  project.provide('kubeconfigPath', controlPlane.kubeconfigPath);
  project.provide('controlPlaneAssets', controlPlane.assets);
  return () => controlPlane.stop();
}
