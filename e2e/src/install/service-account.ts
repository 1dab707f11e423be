import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { kubectl, testKubeConfig } from '@workerpool/testkit/cluster';

// Acting as the operator's ServiceAccount, the way its pod does: with a token the API server
// issued for it (TokenRequest API), not with the admin's rights.

/** A KubeConfig that authenticates as `system:serviceaccount:<namespace>:<name>` with a fresh bearer token. */
export async function serviceAccountKubeConfig(namespace: string, name: string): Promise<KubeConfig> {
  const admin = testKubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { expirationSeconds: 3600 } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`the API server issued no token for ${namespace}/${name}`);
  const server = admin.getCurrentCluster()?.server;
  if (!server) throw new Error('the admin kubeconfig names no server');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    // The test API server's certificate is self-signed and it listens on loopback only.
    clusters: [{ name: 'test', server, skipTLSVerify: true }],
    users: [{ name, token }],
    contexts: [{ name, cluster: 'test', user: name, namespace }],
    currentContext: name,
  });
  return kubeConfig;
}

/**
 * `kubectl auth can-i <args> --as=<user>`: the API server's own answer (SubjectAccessReview)
 * for that identity. The admin may impersonate, being in system:masters.
 */
export function canI(user: string, args: string[]): boolean {
  const answer = kubectl(['auth', 'can-i', ...args, `--as=${user}`]);
  const said = answer.stdout.trim();
  if (said !== 'yes' && said !== 'no')
    throw new Error(`kubectl auth can-i ${args.join(' ')}: unexpected answer ${JSON.stringify(answer)}`);
  return said === 'yes';
}
