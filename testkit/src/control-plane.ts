import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, startProcess, waitUntil, type ManagedProcess } from './processes.ts';

// A real etcd + kube-apiserver on loopback, as envtest starts them: the API server the tests
// talk to is the one a cluster runs, with its validation, CEL rules, server-side apply and RBAC.

const TESTKIT_ROOT = join(import.meta.dirname, '..');
const REPOSITORY_ROOT = join(TESTKIT_ROOT, '..');
const REQUIRED = ['kube-apiserver', 'etcd', 'kubectl'] as const;

/**
 * The folder holding kube-apiserver, etcd and kubectl: KUBEBUILDER_ASSETS when set (the envtest
 * convention), otherwise the cache that testkit/control-plane/build.sh fills (building on first use).
 */
export function controlPlaneAssets(): string {
  const fromEnv = process.env['KUBEBUILDER_ASSETS'];
  if (fromEnv) {
    const missing = REQUIRED.filter((binary) => !existsSync(join(fromEnv, binary)));
    if (missing.length > 0)
      throw new Error(
        `KUBEBUILDER_ASSETS=${fromEnv} lacks ${missing.join(', ')}; unset it to build them with testkit/control-plane/build.sh`,
      );
    return fromEnv;
  }
  try {
    return (
      execFileSync('bash', [join(TESTKIT_ROOT, 'control-plane', 'build.sh')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      })
        .trim()
        .split('\n')
        .pop() ?? ''
    );
  } catch (error) {
    throw new Error('could not build the control-plane binaries (see the output above)', { cause: error });
  }
}

/** Installs the WorkerPool CRD from crds/ and waits until the API server serves it. */
export function installCrds(controlPlane: Pick<ControlPlane, 'kubectl'>): void {
  controlPlane.kubectl(['apply', '--server-side', '-f', join(REPOSITORY_ROOT, 'crds')]);
  controlPlane.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/workerpools.workerpool.dev']);
}

export interface ControlPlane {
  readonly assets: string;
  readonly server: string;
  /** The control plane's own folder (certificates, tokens, etcd data), removed by stop(). */
  readonly dir: string;
  /** A kubeconfig file for the cluster admin (system:masters). */
  readonly kubeconfigPath: string;
  readonly adminToken: string;
  /** Runs the real kubectl against this API server and returns its stdout. */
  kubectl(args: string[], input?: string): string;
  /** etcd's client URL (loopback), for faults a test injects into the store itself. */
  readonly etcdUrl: string;
  /** The API server's JSON audit log, when started with `audit`. */
  readonly auditLogPath: string | undefined;
  /** The pids of etcd, kube-apiserver and kube-controller-manager, for a last-resort cleanup. */
  processIds(): number[];
  /**
   * Stops kube-apiserver and starts it again on the same port, certificates and store: every
   * watch breaks. `whileDown` runs between the two, while nothing answers on the port.
   */
  restartApiServer(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** What a cluster with a real node (testkit/src/kube-node.ts) needs of its control plane. */
export interface NodeControlPlaneOptions {
  /** The address the API server listens on and advertises: the pod bridge's own end, so pods reach it too. */
  readonly address: string;
  /** More lines for the static token file: the kubelet's node identity, the scheduler's. */
  readonly tokenLines: readonly string[];
  /** The client certificate the API server presents to the kubelet (logs, exec, port-forward). */
  readonly kubeletClient: { readonly certFile: string; readonly keyFile: string };
}

export interface ControlPlaneOptions {
  readonly withControllerManager?: boolean;
  /** Run as a cluster with a node: Node authorization, the ServiceAccount admission, every controller. */
  readonly node?: NodeControlPlaneOptions;
  /** An audit.k8s.io/v1 Policy: the API server then writes a JSON audit log (`auditLogPath`). */
  readonly auditPolicy?: Record<string, unknown>;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const assets = controlPlaneAssets();
  const dir = mkdtempSync(join(tmpdir(), 'workerpool-control-plane-'));
  const [etcdClientPort, etcdPeerPort, apiPort] = [
    await freeLoopbackPort(),
    await freeLoopbackPort(),
    await freeLoopbackPort(),
  ];
  const node = options.node;
  const address = node?.address ?? '127.0.0.1';
  const processes: ManagedProcess[] = [];
  const stopAll = async () => {
    for (const proc of processes.reverse()) await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const etcd = startProcess('etcd', join(assets, 'etcd'), [
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      '--unsafe-no-fsync=true', // a throw-away store: speed over durability
      '--quota-backend-bytes=2147483648',
    ]);
    processes.push(etcd);
    await waitUntil('etcd health', async () => (await fetch(`http://127.0.0.1:${etcdClientPort}/health`)).ok, {
      process: etcd,
    });

    const adminToken = randomBytes(24).toString('hex');
    writeFileSync(
      join(dir, 'tokens.csv'),
      [`${adminToken},admin,admin-uid,"system:masters"`, ...(node?.tokenLines ?? [])].join('\n') + '\n',
    );
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const server = `https://${address}:${apiPort}`;
    const auditLogPath = options.auditPolicy ? join(dir, 'audit.log') : undefined;
    if (options.auditPolicy) writeFileSync(join(dir, 'audit-policy.json'), JSON.stringify(options.auditPolicy));
    const apiserverArgs = [
      `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
      `--secure-port=${apiPort}`,
      `--bind-address=${address}`,
      `--advertise-address=${address}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--allow-privileged=true',
      '--enable-priority-and-fairness=false',
      '--storage-media-type=application/json',
      ...(auditLogPath
        ? [
            `--audit-policy-file=${join(dir, 'audit-policy.json')}`,
            `--audit-log-path=${auditLogPath}`,
            '--audit-log-format=json',
            // Blocking: an event is in the file before the response leaves, so the file's order is the server's.
            '--audit-log-mode=blocking',
            '--audit-log-maxsize=0',
          ]
        : []),
      ...(node
        ? [
            '--authorization-mode=Node,RBAC',
            '--enable-admission-plugins=NodeRestriction',
            `--kubelet-client-certificate=${node.kubeletClient.certFile}`,
            `--kubelet-client-key=${node.kubeletClient.keyFile}`,
            // The node is registered as "localhost": the API server reaches its kubelet on loopback.
            '--kubelet-preferred-address-types=Hostname,InternalIP',
          ]
        : [
            '--authorization-mode=RBAC',
            '--disable-admission-plugins=ServiceAccount',
            // As OpenShift and hardened clusters run it: an ownerReference with blockOwnerDeletion
            // needs update on the owner's finalizers, which the operator's RBAC must grant.
            '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
          ]),
    ];
    let apiserver = startProcess('kube-apiserver', join(assets, 'kube-apiserver'), apiserverArgs);
    processes.push(apiserver);
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfigPath,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'test', cluster: { server, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'admin', user: { token: adminToken } }],
        contexts: [{ name: 'test', context: { cluster: 'test', user: 'admin', namespace: 'default' } }],
        'current-context': 'test',
      }),
    );
    const kubectl = (args: string[], input?: string) =>
      execFileSync(join(assets, 'kubectl'), ['--kubeconfig', kubeconfigPath, ...args], {
        encoding: 'utf8',
        input,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    const apiserverReady = () =>
      waitUntil('kube-apiserver readiness', async () => (await httpsStatus(`${server}/readyz`, adminToken)) === 200, {
        process: apiserver,
        timeoutMs: 90_000,
        intervalMs: 250,
      });
    await apiserverReady();
    const restartApiServer = async (whileDown?: () => Promise<void>) => {
      await apiserver.stop();
      await whileDown?.();
      const restarted = startProcess('kube-apiserver', join(assets, 'kube-apiserver'), apiserverArgs);
      processes[processes.indexOf(apiserver)] = restarted;
      apiserver = restarted;
      await apiserverReady();
    };
    if (options.withControllerManager || node) {
      const controllers = node
        ? // Every controller a cluster runs, each with its own ServiceAccount's rights; the root CA
          // is published in each namespace (kube-root-ca.crt) for the pods' projected token volumes.
          ['--use-service-account-credentials=true', `--root-ca-file=${join(dir, 'certs', 'apiserver.crt')}`]
        : [
            '--controllers=deployment-controller,replicaset-controller,garbage-collector-controller,namespace-controller',
          ];
      const kcm = startProcess('kube-controller-manager', join(assets, 'kube-controller-manager'), [
        `--kubeconfig=${kubeconfigPath}`,
        ...controllers,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${await freeLoopbackPort()}`,
        `--service-account-private-key-file=${join(dir, 'sa.key')}`,
      ]);
      processes.push(kcm);
    }
    const processIds = () => processes.map((proc) => proc.child.pid).filter((pid): pid is number => pid !== undefined);
    return {
      assets,
      server,
      dir,
      kubeconfigPath,
      adminToken,
      etcdUrl: `http://127.0.0.1:${etcdClientPort}`,
      auditLogPath,
      kubectl,
      restartApiServer,
      processIds,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** GET over HTTPS, trusting the API server's self-signed certificate: loopback only. */
function httpsStatus(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { rejectUnauthorized: false, headers: { authorization: `Bearer ${token}` }, timeout: 5_000 },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });
}
