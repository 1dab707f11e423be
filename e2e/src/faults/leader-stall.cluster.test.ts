import { AppsV1Api, CoordinationV1Api, CustomObjectsApi, KubeConfig, V1MicroTime } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION } from '@workerpool/operator/api/workerpool-schema';
import { LEASE_DEFAULTS } from '@workerpool/operator/controller/leader-election';
import { ConnectionReusingKubeConfig } from '@workerpool/operator/controller/kube-config';
import type { RunningOperator } from '@workerpool/operator/operator';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { metricTotal } from '@workerpool/operator/testing/metric-total';
import { startOperatorForNamespace } from '@workerpool/operator/testing/operator-under-test';
import { readAuditLog, writesOfUserPolicy } from '@workerpool/testkit/audit';
import { installCrds, startControlPlane, type ControlPlane } from '@workerpool/testkit/control-plane';
import { enqueueWork } from '../harness/e2e-pool.ts';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { startStallableProxy, type StallableProxy } from '../harness/stallable-proxy.ts';

// Two operator replicas, and the leader's connection to the API server stalls: nothing refused,
// nothing reset, its requests simply never answered, while it keeps reading Redis and deciding.
// It must give up leadership at its renew deadline and abandon what it had under way, so that when
// the path comes back nothing of it lands after the standby, which took the Lease once it expired,
// has started writing.
//
// Proven from the API server's audit log: each replica reaches the server through a proxy of its
// own with its own loopback source address (127.0.0.2 the leader, 127.0.0.3 the standby), which
// the audit log records for every request. A control plane of the test's own: the shared one keeps
// no audit log, and this one's is small enough to read whole.

const NAMESPACE = 'default';
const LEADER_ADDRESS = '127.0.0.2';
const STANDBY_ADDRESS = '127.0.0.3';
const { leaseDurationMs } = LEASE_DEFAULTS;

let controlPlane: ControlPlane;
let redis: RedisServer;
let admin: KubeConfig;
const proxies: StallableProxy[] = [];
const operators: RunningOperator[] = [];

beforeAll(async () => {
  [controlPlane, redis] = await Promise.all([
    startControlPlane({ auditPolicy: writesOfUserPolicy('admin') }),
    startRedisServer(),
  ]);
  installCrds(controlPlane);
  admin = new KubeConfig();
  admin.loadFromFile(controlPlane.kubeconfigPath);
});
afterAll(async () => {
  for (const proxy of proxies) proxy.resume(); // an operator stopping mid-test must reach the server
  await Promise.all(operators.map((operator) => operator.stop()));
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await redis?.stop();
  await controlPlane?.stop();
});

/** The operator's own kind of KubeConfig, for the admin user, through a proxy from `sourceAddress`. */
async function pathFrom(sourceAddress: string): Promise<{ proxy: StallableProxy; kubeConfig: KubeConfig }> {
  const server = new URL(controlPlane.server);
  const proxy = await startStallableProxy({ host: server.hostname, port: Number(server.port), sourceAddress });
  proxies.push(proxy);
  const kubeConfig = new ConnectionReusingKubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'test', server: `https://${proxy.address}`, skipTLSVerify: true }],
    users: [{ name: 'admin', token: controlPlane.adminToken }],
    contexts: [{ name: 'test', cluster: 'test', user: 'admin', namespace: NAMESPACE }],
    currentContext: 'test',
  });
  return { proxy, kubeConfig };
}

interface Write {
  readonly from: string;
  readonly what: string;
  readonly receivedAt: number;
  readonly doneAt: number;
}

/** Every write the API server received from the two replicas, in the order it finished them. */
function replicaWrites(): Write[] {
  return readAuditLog(controlPlane.auditLogPath ?? '')
    .map((event) => ({
      from: event.sourceIPs?.[0] ?? '',
      what: [event.verb, event.objectRef?.resource, event.objectRef?.subresource, event.objectRef?.name]
        .filter(Boolean)
        .join(' '),
      receivedAt: Date.parse(event.requestReceivedTimestamp),
      doneAt: Date.parse(event.stageTimestamp),
    }))
    .filter((write) => write.from === LEADER_ADDRESS || write.from === STANDBY_ADDRESS);
}

const scaleUps = (operator: RunningOperator) => metricTotal(operator.metrics.scaleDecisions, { direction: 'up' });
const writesTried = (operator: RunningOperator) => metricTotal(operator.metrics.apiWrites);

describe('a leader whose connection to the API server stalls', () => {
  it('stops at its renew deadline, and nothing it had under way lands after the standby took over', async () => {
    const queue = 'stalled'; // this test's own Redis: no prefix needed
    const leaderPath = await pathFrom(LEADER_ADDRESS);
    const standbyPath = await pathFrom(STANDBY_ADDRESS);
    let leaderStoppedAt = 0;
    const leader = await startOperatorForNamespace(leaderPath.kubeConfig, NAMESPACE, {
      leaderElection: { namespace: NAMESPACE },
      onLeadershipLost: () => (leaderStoppedAt = Date.now()),
    });
    operators.push(leader);
    await leader.leading;
    const standby = await startOperatorForNamespace(standbyPath.kubeConfig, NAMESPACE, {
      leaderElection: { namespace: NAMESPACE },
    });
    operators.push(standby);
    let standbyLeadsAt = 0;
    standby.leading.then(
      () => (standbyLeadsAt = Date.now()),
      () => undefined, // stopped before it led: the polls below say so
    );

    const custom = admin.makeApiClient(CustomObjectsApi);
    const apps = admin.makeApiClient(AppsV1Api);
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: NAMESPACE,
      body: templatePool(NAMESPACE, 'stalled', {
        queue: { format: 'native', names: [queue], redis: { url: redis.url } },
        scaling: {
          minReplicas: 1,
          maxReplicas: 20,
          concurrency: 5,
          targetLatencySeconds: 5,
          pollIntervalSeconds: 1,
          podStartupSeconds: 2,
        },
      }),
    });
    const replicas = async () =>
      (await apps.readNamespacedDeployment({ name: 'stalled', namespace: NAMESPACE }).catch(() => undefined))?.spec
        ?.replicas ?? 0;
    await expect.poll(replicas, { timeout: 20_000, message: 'the leader never created the Deployment' }).toBe(1);

    leaderPath.proxy.stall();
    const stalledAt = Date.now();
    const [decisionsBefore, writesBefore] = [await scaleUps(leader), await writesTried(leader)];
    // 400 jobs of 1 s at concurrency 5 and a 5 s target: the leader, still reading Redis, decides
    // at its next poll to scale up and hands the pool to a reconcile, whose writes (or the one
    // still under way when the stall began) wait on the stalled connection.
    await enqueueWork(redis.url, queue, 400, 1_000);
    await expect
      .poll(() => scaleUps(leader), { timeout: 10_000, message: 'the stalled leader never decided to scale up' })
      .toBeGreaterThan(decisionsBefore);

    await expect
      .poll(() => standbyLeadsAt, { timeout: leaseDurationMs + 15_000, message: 'the standby never took the Lease' })
      .toBeGreaterThan(0);
    await expect
      .poll(replicas, { timeout: 20_000, message: 'the new leader never scaled the Deployment up' })
      .toBeGreaterThan(1);
    // The old leader stopped by itself, its connection still stalled.
    expect(leaderStoppedAt, 'the stalled leader never stopped').toBeGreaterThan(0);

    // The path comes back: whatever the old leader still had under way would now be delivered.
    leaderPath.proxy.resume();
    await expect.poll(() => leaderPath.proxy.heldBytes(), { timeout: 10_000 }).toBe(0);
    // A marker sent on the same path after everything held was delivered: once the audit log has
    // it, the server has had what came before it.
    const marker = 'after-the-stall';
    await leaderPath.kubeConfig.makeApiClient(CoordinationV1Api).createNamespacedLease({
      namespace: NAMESPACE,
      body: { metadata: { name: marker }, spec: { holderIdentity: 'marker', renewTime: new V1MicroTime() } },
    });
    await expect
      .poll(() => replicaWrites().some((write) => write.what.endsWith(marker)), { timeout: 10_000 })
      .toBe(true);

    const writes = replicaWrites().filter((write) => !write.what.endsWith(marker));
    const byLeader = writes.filter((write) => write.from === LEADER_ADDRESS);
    const byStandby = writes.filter((write) => write.from === STANDBY_ADDRESS);
    const standbyFirst = byStandby[0];
    expect(standbyFirst, 'the standby wrote nothing').toBeDefined();
    expect(
      byLeader.some((write) => write.what.includes(' deployments ')),
      'the leader never wrote',
    ).toBe(true);
    expect(byStandby.some((write) => write.what.includes(' deployments '))).toBe(true);
    console.log(
      `stalled at +0 ms; the old leader stopped at +${leaderStoppedAt - stalledAt} ms, the standby led at ` +
        `+${standbyLeadsAt - stalledAt} ms and wrote first at +${standbyFirst!.receivedAt - stalledAt} ms ` +
        `(${standbyFirst!.what}); while stalled the old leader tried ${(await writesTried(leader)) - writesBefore} ` +
        `writes and abandoned ${leaderPath.proxy.droppedBytes()} bytes`,
    );
    expect(leaderStoppedAt).toBeLessThan(standbyFirst!.receivedAt);
    // Never two leaders: nothing from the old leader finished after the new one's first write began.
    expect(byLeader.filter((write) => write.doneAt >= standbyFirst!.receivedAt)).toEqual([]);
    // What it had under way was abandoned with its connections, not delivered late.
    expect(leaderPath.proxy.droppedBytes()).toBeGreaterThan(0);
  });
});
