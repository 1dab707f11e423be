import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { freeLoopbackPort, startProcess, waitUntil, type ManagedProcess } from './processes.ts';

// A real one-node cluster: etcd, kube-apiserver, kube-controller-manager and kube-scheduler, plus
// containerd + runc + a kubelet registered as Node "localhost". Pods are scheduled by the real
// scheduler, started by the real kubelet from images imported into containerd, probed, and stopped
// with SIGTERM and their grace period. What the node changes on this machine is confined or undone:
//   - mounts: containerd and the kubelet run in a private mount namespace (testkit/node/node-inner.sh);
//   - sysctls the kubelet wants to set are files bind-mounted over /proc/sys in that namespace;
//   - cgroups: one folder per hierarchy (workerpool-node-<id>), removed on stop;
//   - network: a bridge of our own with an address only it has; no routing, NAT or ip_forward,
//     and no iptables binary on the kubelet's PATH;
//   - processes: each one we start is stopped by its pid, and so are the containers left behind.
// See testkit/NODE.md for how this node differs from a production one.

const NODE_INNER = join(import.meta.dirname, '..', 'node', 'node-inner.sh');
const NODE_BINARIES = ['kube-scheduler', 'kubelet', 'containerd', 'containerd-shim-runc-v2', 'ctr'] as const;
const CNI_PLUGINS = '/usr/lib/cni';
export const NODE_NAME = 'localhost';
export const SANDBOX_IMAGE = 'registry.k8s.io/pause:3.10';

export interface NodeCluster extends ControlPlane {
  /** The address of the pod bridge's own end: pods reach the host (its Redis, its API server) here. */
  readonly hostAddress: string;
  /** The node's folder: containerd, kubelet and CNI state and their logs. */
  readonly nodeDir: string;
  /** The last lines of the kubelet's and containerd's logs, to explain a failure. */
  nodeLogs(): string;
}

export interface NodeClusterOptions {
  /** docker-archive tarballs to import into containerd (e2e/images/build.sh); the pause image among them. */
  readonly images: readonly string[];
  /** An audit policy for the API server (ControlPlaneOptions.auditPolicy); no audit log without one. */
  readonly auditPolicy?: Record<string, unknown>;
}

/** Fails at once, naming what to install, when this machine cannot run a node. */
export function checkNodePrerequisites(assets: string): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (the node mounts, makes cgroups and a bridge)');
  for (const binary of NODE_BINARIES)
    if (!existsSync(join(assets, binary)))
      missing.push(`${binary} in ${assets} (testkit/control-plane/build.sh builds it)`);
  for (const tool of ['runc', 'unshare', 'ip', 'openssl'])
    if (!onPath(tool)) missing.push(`${tool} (npm run setup installs it)`);
  for (const plugin of ['bridge', 'host-local', 'loopback'])
    if (!existsSync(join(CNI_PLUGINS, plugin)))
      missing.push(`${CNI_PLUGINS}/${plugin} (Debian: containernetworking-plugins)`);
  if (missing.length > 0) throw new Error(`cannot start the test node; missing: ${missing.join('; ')}`);
}

export async function startNodeCluster(options: NodeClusterOptions): Promise<NodeCluster> {
  sweepAbandonedNodes();
  const id = randomBytes(3).toString('hex');
  const nodeDir = mkdtempSync(join(tmpdir(), NODE_DIR_PREFIX));
  const record: NodeRecord = {
    owner: process.pid,
    bridge: `wpn${id}`,
    cgroupRoot: `workerpool-node-${id}`,
    pids: [],
    folders: [],
  };
  const saveRecord = () => writeFileSync(join(nodeDir, NODE_RECORD), JSON.stringify(record));
  saveRecord();
  // If this process is stopped by a signal or exits without calling stop(), the node must not outlive it.
  const onSignal = (signal: NodeJS.Signals) => {
    abandonNode(nodeDir, record);
    removeFolders(nodeDir, ...record.folders);
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const onExit = () => {
    abandonNode(nodeDir, record);
    removeFolders(nodeDir, ...record.folders);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
  process.once('exit', onExit);
  const undo: Array<() => Promise<void> | void> = [];
  const teardown = async () => {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error(`test node teardown: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    rmSync(nodeDir, { recursive: true, force: true });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeListener(signal, onSignal);
    process.removeListener('exit', onExit);
  };
  try {
    const network = createPodBridge(record.bridge);
    undo.push(() => deleteLink(network.bridge));
    const pki = writeNodePki(nodeDir);
    const tokens = { node: randomBytes(24).toString('hex'), scheduler: randomBytes(24).toString('hex') };
    const controlPlane = await startControlPlane({
      node: {
        address: network.hostAddress,
        tokenLines: [
          `${tokens.node},system:node:${NODE_NAME},node-uid,"system:nodes"`,
          `${tokens.scheduler},system:kube-scheduler,scheduler-uid`,
        ],
        kubeletClient: pki.kubeletClient,
      },
      ...(options.auditPolicy ? { auditPolicy: options.auditPolicy } : {}),
    });
    undo.push(() => controlPlane.stop());
    record.pids.push(...controlPlane.processIds().map((pid) => ({ pid, named: controlPlane.assets })));
    record.folders.push(controlPlane.dir);
    saveRecord();
    checkNodePrerequisites(controlPlane.assets);

    const scheduler = startProcess('kube-scheduler', join(controlPlane.assets, 'kube-scheduler'), [
      `--kubeconfig=${writeKubeconfig(nodeDir, 'scheduler', controlPlane.server, tokens.scheduler)}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freeLoopbackPort()}`,
    ]);
    undo.push(() => scheduler.stop());
    if (scheduler.child.pid !== undefined) record.pids.push({ pid: scheduler.child.pid, named: controlPlane.assets });

    const cgroups = createCgroupRoot(record.cgroupRoot);
    undo.push(() => removeCgroupRoot(cgroups));
    await writeNodeConfig(nodeDir, { ...network, cgroupRoot: cgroups.name, clientCaFile: pki.caFile });
    writeKubeconfig(nodeDir, 'kubelet', controlPlane.server, tokens.node);

    const node = startProcess(
      'test node (containerd + kubelet)',
      'unshare',
      ['-m', '--propagation', 'private', 'bash', NODE_INNER],
      {
        ...process.env,
        NODE_STATE: nodeDir,
        NODE_ASSETS: controlPlane.assets,
        NODE_IMAGES: options.images.join(' '),
      },
    );
    undo.push(() => stopNode(node, controlPlane, cgroups));
    if (node.child.pid !== undefined) record.pids.push({ pid: node.child.pid, named: NODE_INNER });
    saveRecord();
    const nodeLogs = () =>
      [node.output(), tail(join(nodeDir, 'containerd.log')), tail(join(nodeDir, 'kubelet.log'))].join('\n');

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    try {
      await waitUntil(
        `node ${NODE_NAME} Ready`,
        async () =>
          (await core.readNode({ name: NODE_NAME })).status?.conditions?.some(
            (c) => c.type === 'Ready' && c.status === 'True',
          ) === true,
        { process: node, timeoutMs: 120_000, intervalMs: 250 },
      );
      // Pods of a namespace are admitted once its ServiceAccount exists (the controller manager makes it).
      await waitUntil(
        'the default ServiceAccount',
        async () => (await core.listNamespacedServiceAccount({ namespace: 'default' })).items.length > 0,
        { timeoutMs: 60_000 },
      );
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${nodeLogs()}`, { cause: error });
    }
    return { ...controlPlane, hostAddress: network.hostAddress, nodeDir, nodeLogs, stop: teardown };
  } catch (error) {
    await teardown();
    throw error;
  }
}

const NODE_DIR_PREFIX = 'workerpool-node-';
const NODE_RECORD = 'node-record.json';

/** What a node made on this machine, written into its folder so that a later run can undo it. */
interface NodeRecord {
  /** The process that started the node: when it is gone, the node is abandoned. */
  owner: number;
  bridge: string;
  cgroupRoot: string;
  /**
   * Processes started for the node (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
   * the node's runtime), each with a text its command line holds, so that a reused pid is left alone.
   */
  pids: Array<{ pid: number; named: string }>;
  /** Folders of the node's control plane, removed with the node's own. */
  folders: string[];
}

function removeFolders(...folders: string[]): void {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
}

/**
 * The last resort, synchronous so that it also runs on 'exit': kills, by their pids, the processes
 * the node started and every container left in its cgroups, then removes its cgroups and bridge.
 * containerd's mounts live in the node's mount namespace and go with its last process.
 */
function abandonNode(nodeDir: string, record: NodeRecord): void {
  const cgroupFolders = readdirSync('/sys/fs/cgroup').map((hierarchy) =>
    join('/sys/fs/cgroup', hierarchy, record.cgroupRoot),
  );
  const kill = (pid: number) => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  for (const { pid, named } of record.pids) if (commandLine(pid).includes(named)) kill(pid);
  // The kubelet, containerd and the runtime's shims (which outlive containerd) all name the node's folder.
  for (const pid of processesNaming(nodeDir)) kill(pid);
  for (let attempt = 0; attempt < 50; attempt++) {
    const left = cgroupFolders.flatMap(processesIn);
    if (left.length === 0) break;
    left.forEach(kill);
    execFileSync('sleep', ['0.1']);
  }
  try {
    removeCgroupRoot({ name: record.cgroupRoot, folders: cgroupFolders });
  } catch (error) {
    console.error(`test node cleanup: ${error instanceof Error ? error.message : String(error)}`);
  }
  deleteLink(record.bridge);
}

function commandLine(pid: number): string {
  try {
    return readFileSync(join('/proc', String(pid), 'cmdline'), 'utf8');
  } catch {
    return ''; // exited
  }
}

/** Pids of processes whose command line names `text`. */
function processesNaming(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => commandLine(pid).includes(text));
}

/** Undoes what nodes of earlier runs left behind when their process was killed before it could. */
function sweepAbandonedNodes(): void {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(NODE_DIR_PREFIX)) continue;
    const nodeDir = join(tmpdir(), entry);
    let record: NodeRecord;
    try {
      record = JSON.parse(readFileSync(join(nodeDir, NODE_RECORD), 'utf8')) as NodeRecord;
    } catch {
      continue; // not a node folder, or one being written right now
    }
    if (isAlive(record.owner)) continue;
    console.error(`test node: cleaning up after an abandoned node (${nodeDir})`);
    abandonNode(nodeDir, record);
    removeFolders(nodeDir, ...(record.folders ?? []));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface PodNetwork {
  bridge: string;
  /** e.g. 10.244.37 */
  subnetPrefix: string;
  hostAddress: string;
}

/**
 * A bridge of our own for the pods, with a /24 that no interface of this machine has. CNI's bridge
 * plugin attaches each pod to it with isGateway false, so it never turns on ip_forward.
 *
 * Its MAC address is set, not left to the kernel: a bridge without one takes the lowest MAC of
 * its ports, so when the pod whose veth holds it goes, the host address moves to another MAC
 * while the other pods' ARP entries still name the old one. Their packets to Redis and the API
 * server are dropped until the entry expires (35 s in a private network namespace here). A
 * Sidekiq BRPOP sent then times out in the client, which closes the connection; the kernel
 * still delivers the command once the path is back, and Redis pops a job for nobody: how a
 * scale-down could lose Sidekiq jobs on this node.
 */
function createPodBridge(bridge: string): PodNetwork {
  const used = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' });
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  const free = Array.from({ length: 250 }, (_, i) => i + 2).filter(
    (third) => !used.includes(` 10.244.${third}.`) && !routes.includes(`10.244.${third}.`),
  );
  const third = free[randomBytes(1)[0]! % free.length];
  if (third === undefined) throw new Error('no free 10.244.x.0/24 for the pod bridge');
  const subnetPrefix = `10.244.${third}`;
  // Locally administered unicast (02:...), as the kernel's own random addresses are.
  const mac = ['02', ...[...randomBytes(5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
  execFileSync('ip', ['link', 'add', bridge, 'address', mac, 'type', 'bridge']);
  try {
    execFileSync('ip', ['addr', 'add', `${subnetPrefix}.1/24`, 'dev', bridge]);
    execFileSync('ip', ['link', 'set', bridge, 'up']);
  } catch (error) {
    deleteLink(bridge);
    throw error;
  }
  return { bridge, subnetPrefix, hostAddress: `${subnetPrefix}.1` };
}

function deleteLink(name: string): void {
  try {
    execFileSync('ip', ['link', 'del', name], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

interface CgroupRoot {
  name: string;
  folders: string[];
}

/** The kubelet's cgroupRoot, one folder in every hierarchy; cpuset needs its cpus and mems filled in. */
function createCgroupRoot(name: string): CgroupRoot {
  const folders: string[] = [];
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    const base = join('/sys/fs/cgroup', hierarchy);
    if (!existsSync(join(base, 'cgroup.procs'))) continue;
    const folder = join(base, name);
    mkdirSync(folder);
    folders.push(folder);
    if (hierarchy === 'cpuset') {
      for (const file of ['cpuset.cpus', 'cpuset.mems'])
        writeFileSync(join(folder, file), readFileSync(join(base, file)));
    }
  }
  return { name, folders };
}

/** Every process still in the node's cgroups: containers that outlived their runtime. */
function processesIn(folder: string): number[] {
  const pids: number[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    const procs = join(dir, 'cgroup.procs');
    if (existsSync(procs)) pids.push(...readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number));
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) walk(join(dir, entry.name));
  };
  walk(folder);
  return pids;
}

function removeCgroupRoot(root: CgroupRoot): void {
  const removeDeepestFirst = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) removeDeepestFirst(join(dir, entry.name));
    rmdirSync(dir);
  };
  for (const folder of root.folders) removeDeepestFirst(folder);
}

/**
 * Stops the node as a drain would: the kubelet stops the pods itself (their SIGTERM, grace period
 * and CNI teardown), then the runtime stops; containers still running after that are killed by pid.
 */
async function stopNode(node: ManagedProcess, controlPlane: ControlPlane, cgroups: CgroupRoot): Promise<void> {
  if (node.child.exitCode === null) {
    try {
      controlPlane.kubectl([
        'delete',
        'deployments,replicasets,statefulsets,jobs',
        '--all',
        '--all-namespaces',
        '--wait=false',
      ]);
      controlPlane.kubectl(['delete', 'pods', '--all', '--all-namespaces', '--grace-period=1', '--wait=false']);
      await waitUntil(
        'every pod gone',
        () => Promise.resolve(controlPlane.kubectl(['get', 'pods', '--all-namespaces', '-o', 'name']).trim() === ''),
        { timeoutMs: 45_000, intervalMs: 500 },
      );
    } catch (error) {
      console.error(
        `test node teardown: pods did not all stop in time (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  }
  await node.stop('SIGTERM');
  for (let attempt = 0; attempt < 20; attempt++) {
    const left = cgroups.folders.flatMap(processesIn);
    if (left.length === 0) return;
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    await sleep(100);
  }
}

interface NodePki {
  caFile: string;
  kubeletClient: { certFile: string; keyFile: string };
}

/** A CA and the client certificate the API server shows the kubelet, which trusts that CA. */
function writeNodePki(dir: string): NodePki {
  const pki = join(dir, 'pki');
  mkdirSync(pki);
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: pki, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=workerpool-test-node-ca',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'kubelet-client.key',
    '-out',
    'kubelet-client.csr',
    '-subj',
    '/O=system:masters/CN=kube-apiserver-kubelet-client',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'kubelet-client.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'kubelet-client.crt',
    '-days',
    '2',
  );
  return {
    caFile: join(pki, 'ca.crt'),
    kubeletClient: { certFile: join(pki, 'kubelet-client.crt'), keyFile: join(pki, 'kubelet-client.key') },
  };
}

function writeKubeconfig(dir: string, user: string, server: string, token: string): string {
  const path = join(dir, `${user}.kubeconfig`);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user } }],
      'current-context': 'test',
    }),
  );
  return path;
}

async function writeNodeConfig(
  dir: string,
  node: PodNetwork & { cgroupRoot: string; clientCaFile: string },
): Promise<void> {
  for (const folder of ['containerd', 'cni/net.d', 'kubelet', 'varlog/pods', 'varlog/containers', 'fake-sysctl'])
    mkdirSync(join(dir, folder), { recursive: true });
  // What the kubelet writes to vm.overcommit_memory, kernel.panic and kernel.panic_on_oops lands here.
  writeFileSync(join(dir, 'fake-sysctl', 'overcommit_memory'), '1');
  writeFileSync(join(dir, 'fake-sysctl', 'panic'), '10');
  writeFileSync(join(dir, 'fake-sysctl', 'panic_on_oops'), '1');
  writeFileSync(
    join(dir, 'containerd', 'config.toml'),
    `version = 3
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
[grpc]
  address = "${dir}/containerd/containerd.sock"
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "${SANDBOX_IMAGE}"
[plugins.'io.containerd.cri.v1.runtime']
  # runc cannot lower oom_score_adj below 0 without CAP_SYS_RESOURCE, which this VM's root lacks.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
      SystemdCgroup = false
      BinaryName = "${whichOrThrow('runc')}"
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["${CNI_PLUGINS}"]
    conf_dir = "${dir}/cni/net.d"
`,
  );
  writeFileSync(
    join(dir, 'cni', 'net.d', '10-pods.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'pods',
      plugins: [
        {
          type: 'bridge',
          bridge: node.bridge,
          isGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: join(dir, 'cni', 'ipam'),
            ranges: [
              [
                {
                  subnet: `${node.subnetPrefix}.0/24`,
                  rangeStart: `${node.subnetPrefix}.10`,
                  gateway: node.hostAddress,
                },
              ],
            ],
          },
        },
      ],
    }),
  );
  const [kubeletPort, healthzPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  writeFileSync(
    join(dir, 'kubelet-config.yaml'),
    JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      failCgroupV1: false, // kubelet >= 1.35 refuses a cgroup v1 host otherwise (KEP-5573); this VM has v1
      cgroupDriver: 'cgroupfs',
      cgroupRoot: `/${node.cgroupRoot}`,
      containerRuntimeEndpoint: `unix://${dir}/containerd/containerd.sock`,
      podLogsDir: '/var/log/pods',
      address: '127.0.0.1',
      port: kubeletPort,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: false },
        x509: { clientCAFile: node.clientCaFile },
      },
      authorization: { mode: 'AlwaysAllow' },
      failSwapOn: false,
      // Images are imported by hand and cannot be pulled again: never garbage-collect them.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      // Status reaches the API server promptly, so that tests see pods Ready without delay.
      nodeStatusUpdateFrequency: '4s',
      syncFrequency: '10s',
      serializeImagePulls: false,
    }),
  );
}

function whichOrThrow(tool: string): string {
  return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
}

function onPath(tool: string): boolean {
  try {
    whichOrThrow(tool);
    return true;
  } catch {
    return false;
  }
}

function tail(path: string, lines = 25): string {
  if (!existsSync(path)) return `(${path}: none)`;
  return `--- ${path}\n${readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n')}`;
}

/** The host pid of a container's main process, as the node's containerd reports it. */
export function containerPid(nodeDir: string, assets: string, containerId: string): number {
  const tasks = execFileSync(
    join(assets, 'ctr'),
    ['--address', join(nodeDir, 'containerd', 'containerd.sock'), '-n', 'k8s.io', 'task', 'ls'],
    { encoding: 'utf8' },
  );
  const row = tasks.split('\n').find((line) => line.startsWith(containerId));
  const pid = Number(row?.trim().split(/\s+/)[1]);
  if (!Number.isInteger(pid) || pid <= 1)
    throw new Error(`containerd lists no running task for container ${containerId}:\n${tasks}`);
  return pid;
}
