import { AppsV1Api, makeInformer, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';

// When each Deployment of a namespace had its spec.replicas raised, seen through a watch: what a
// burst's reaction is measured against, in the reaction benchmarks and the tenancy test.

export interface ReplicaRaises {
  /** The first time the Deployment's spec.replicas rose at or after `atMs`, if it has. */
  raisedAfter(name: string, atMs: number): number | undefined;
  /** The Deployment's spec.replicas as last seen. */
  replicas(name: string): number | undefined;
  stop(): Promise<void>;
}

export async function watchReplicaRaises(kubeConfig: KubeConfig, namespace: string): Promise<ReplicaRaises> {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const raised = new Map<string, number[]>();
  const last = new Map<string, number>();
  const informer = makeInformer<V1Deployment>(kubeConfig, `/apis/apps/v1/namespaces/${namespace}/deployments`, () =>
    apps.listNamespacedDeployment({ namespace }),
  );
  const seen = (deployment: V1Deployment) => {
    const name = deployment.metadata?.name ?? '';
    const replicas = deployment.spec?.replicas ?? 0;
    const before = last.get(name);
    last.set(name, replicas);
    if (before !== undefined && replicas > before) raised.set(name, [...(raised.get(name) ?? []), Date.now()]);
  };
  informer.on('add', seen);
  informer.on('update', seen);
  await informer.start();
  return {
    raisedAfter: (name, atMs) => raised.get(name)?.find((t) => t >= atMs),
    replicas: (name) => last.get(name),
    stop: () => informer.stop(),
  };
}
