import type { TestProject } from 'vitest/node';
import { installCrds, startControlPlane } from './control-plane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Kubeconfig of the real API server the cluster tests share; each test owns a namespace. */
    kubeconfigPath: string;
    /** Folder of kube-apiserver, etcd, kubectl and kube-controller-manager. */
    controlPlaneAssets: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const controlPlane = await startControlPlane();
  try {
    installCrds(controlPlane);
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
  project.provide('kubeconfigPath', controlPlane.kubeconfigPath);
  project.provide('controlPlaneAssets', controlPlane.assets);
  return () => controlPlane.stop();
}
