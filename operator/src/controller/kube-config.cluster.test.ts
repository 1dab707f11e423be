import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { testKubeConfig } from '@workerpool/testkit/cluster';
import { ConnectionReusingKubeConfig } from './kube-config.ts';

// Counts the connections undici opens, as undici itself reports them.
let connections = 0;
const onConnected = () => {
  connections += 1;
};
subscribe('undici:client:connected', onConnected);
afterEach(() => {
  connections = 0;
});
afterAll(() => unsubscribe('undici:client:connected', onConnected));

/** The test cluster's kubeconfig, with a second context that differs only in the TLS server name. */
function twoContexts<T extends KubeConfig>(into: T): T {
  const loaded = testKubeConfig();
  const cluster = loaded.getCurrentCluster();
  const user = loaded.getCurrentUser();
  if (!cluster || !user) throw new Error('the test kubeconfig names no cluster or user');
  into.loadFromOptions({
    clusters: [
      { ...cluster, name: 'plain' },
      { ...cluster, name: 'renamed', tlsServerName: 'kubernetes.default' },
    ],
    users: [user],
    contexts: [
      { name: 'plain', cluster: 'plain', user: user.name },
      { name: 'renamed', cluster: 'renamed', user: user.name },
    ],
    currentContext: 'plain',
  });
  return into;
}

const listNamespaces = async (kubeConfig: KubeConfig, times: number) => {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  for (let i = 0; i < times; i++) expect((await core.listNamespace()).items.length).toBeGreaterThan(0);
};

describe('connections to the API server', () => {
  it('opens one TLS connection per request with a plain KubeConfig, which is why ours exists', async () => {
    await listNamespaces(twoContexts(new KubeConfig()), 3);
    expect(connections).toBe(3);
  });

  it('sends every request and watch over connections it keeps alive', async () => {
    const kubeConfig = twoContexts(new ConnectionReusingKubeConfig());
    await listNamespaces(kubeConfig, 5);
    expect(connections).toBe(1);
    const events: string[] = [];
    const watching = await new Watch(kubeConfig).watch(
      '/api/v1/namespaces',
      {},
      (phase) => events.push(phase),
      () => undefined,
    );
    await expect.poll(() => events.length).toBeGreaterThan(0);
    await listNamespaces(kubeConfig, 3);
    watching.abort();
    // undici speaks HTTP/2 to the API server: the watch and the requests share the one connection.
    expect(connections).toBe(1);
  });

  it('starts new connections when the connection settings change, and keeps working', async () => {
    const kubeConfig = twoContexts(new ConnectionReusingKubeConfig());
    await listNamespaces(kubeConfig, 2);
    kubeConfig.setCurrentContext('renamed');
    await listNamespaces(kubeConfig, 2);
    kubeConfig.setCurrentContext('plain');
    await listNamespaces(kubeConfig, 2);
    expect(connections).toBe(3);
  });
});
