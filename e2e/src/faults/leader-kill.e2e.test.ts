import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LEASE_DEFAULTS } from '@workerpool/operator/controller/leader-election';
import { readAuditLog, type AuditEvent } from '@workerpool/testkit/audit';
import { enqueueWork, exampleNativePool } from '../harness/e2e-pool.ts';
import { containerPid } from '@workerpool/testkit/kube-node';
import { startBareScenario, type BareScenario } from '../harness/scenario.ts';
import { OPERATOR_NAMESPACE } from '../install/manifests.ts';
import { installOperator, leaseHolder, type OperatorInstall } from '../install/operator-install.ts';

// Two operator replicas installed from manifests/, and the leader SIGKILLed in the middle of a
// scale-up: no goodbye, no Lease handed back. The standby must take the Lease once it expires,
// finish the scale-up and let every job run, and the two must never write at the same time.
//
// "Never two writers" is proven from the API server's audit log, not from the operator's own
// account: every write the operator's ServiceAccount made, attributed to a replica by the pod its
// bound token names (the API server verified it; the pod's IP is the fallback). This is stronger
// than Lease history plus managedFields, which keep only the last writer of each object and
// cannot show that an old leader wrote nothing after the new one took over.

const POOL = 'takeover';
const MAX_REPLICAS = 6;
const { leaseDurationMs, retryPeriodMs } = LEASE_DEFAULTS;

let install: OperatorInstall | undefined;
let scenario: BareScenario | undefined;
/** The audit log is the whole e2e run's: earlier installs' replicas wrote to it too. */
let installedAt = 0;

beforeAll(() => {
  expect(inject('auditLogPath'), 'the node was started without an audit log').toBeTruthy();
  installedAt = Date.now();
  install = installOperator();
});
afterAll(async () => {
  await scenario?.close();
  install?.uninstall();
});

const POOL_OBJECTS = new Set(['deployments', 'workerpools', 'pods', 'events']);
const at = (timestamp: string) => Date.parse(timestamp);

interface Write {
  readonly by: string;
  /** How `by` was found: the bound token's pod claim, or the source IP. */
  readonly attributedBy: 'token' | 'ip';
  readonly what: string;
  readonly receivedAt: number;
  readonly doneAt: number;
}

/** The operator's successful writes, each with the replica (pod name) that made it. */
function operatorWrites(podByIp: ReadonlyMap<string, string>): Write[] {
  return readAuditLog(inject('auditLogPath'))
    .filter((event) => (event.responseStatus?.code ?? 0) < 300 && at(event.requestReceivedTimestamp) >= installedAt)
    .map((event: AuditEvent) => ({
      ...writer(event, podByIp),
      what: [event.verb, event.objectRef?.resource, event.objectRef?.subresource, event.objectRef?.name]
        .filter(Boolean)
        .join(' '),
      receivedAt: at(event.requestReceivedTimestamp),
      doneAt: at(event.stageTimestamp),
    }));
}

function writer(event: AuditEvent, podByIp: ReadonlyMap<string, string>): Pick<Write, 'by' | 'attributedBy'> {
  const claimed = event.user.extra?.['authentication.kubernetes.io/pod-name']?.[0];
  if (claimed) return { by: claimed, attributedBy: 'token' };
  return {
    by: podByIp.get(event.sourceIPs?.[0] ?? '') ?? `unknown (${event.sourceIPs?.join(',')})`,
    attributedBy: 'ip',
  };
}

/** A holder identity is the pod name and a per-process id: `<pod>_<uuid>`. */
const podOf = (holderIdentity: string) => holderIdentity.split('_')[0] ?? '';

const isLeaseWrite = (write: Write) => write.what.includes(' leases ');
const isPoolWrite = (write: Write) => POOL_OBJECTS.has(write.what.split(' ')[1] ?? '');

describe('the leader SIGKILLed during a scale-up', () => {
  it('hands over within the lease duration, finishes the scale-up, runs every job, and never has two writers', async () => {
    install?.rolledOut();
    await expect.poll(leaseHolder, { timeout: 30_000, interval: 500 }).toMatch(/^workerpool-operator-/);
    scenario = await startBareScenario();
    const s = scenario;
    const operatorPods = async (): Promise<V1Pod[]> =>
      (
        await s.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({
          namespace: OPERATOR_NAMESPACE,
          labelSelector: 'app.kubernetes.io/name=workerpool-operator',
        })
      ).items;

    const watch = s.watch(POOL);
    await watch.create(
      exampleNativePool(s.namespace, POOL, s.redis.url, {
        recordPrefix: s.evidence.prefix,
        scaling: {
          minReplicas: 1,
          maxReplicas: MAX_REPLICAS,
          concurrency: 2,
          targetLatencySeconds: 5,
          pollIntervalSeconds: 1,
          podStartupSeconds: 5,
          // One pod every 3 s: the scale-up takes a while, so the kill lands in its middle.
          scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 3 }] },
        },
      }),
    );
    await expect.poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 }).toBe(1);

    // 600 jobs of 1 s: far more than six pods of two slots clear in 5 s, so the target is the maximum.
    const ids = await enqueueWork(s.redis.url, POOL, 600, 1_000);
    await expect.poll(() => watch.specReplicas(), { timeout: 20_000, interval: 100 }).toBeGreaterThan(1);
    const leader = podOf(leaseHolder());
    const pods = await operatorPods();
    const leaderPod = pods.find((pod) => pod.metadata?.name === leader);
    const standby = pods.find((pod) => pod.metadata?.name !== leader)?.metadata?.name ?? '';
    const containerId = leaderPod?.status?.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '');
    expect(containerId, `no running container for the leader ${leader}`).toBeTruthy();
    const replicasAtKill = await watch.specReplicas();
    expect(replicasAtKill).toBeLessThan(MAX_REPLICAS);
    process.kill(containerPid(inject('nodeDir'), inject('controlPlaneAssets'), containerId!), 'SIGKILL');
    const killedAt = Date.now();

    await expect.poll(() => podOf(leaseHolder()), { timeout: leaseDurationMs + 10_000, interval: 250 }).toBe(standby);
    await expect.poll(() => watch.specReplicas(), { timeout: 60_000, interval: 500 }).toBe(MAX_REPLICAS);
    await expect
      .poll(async () => (await watch.readyPods()).length, { timeout: 120_000, interval: 1_000 })
      .toBe(MAX_REPLICAS);
    await expect.poll(() => s.evidence.unfinished(ids), { timeout: 180_000, interval: 1_000 }).toEqual([]);

    const podByIp = new Map(pods.map((pod) => [pod.status?.podIP ?? '', pod.metadata?.name ?? '']));
    const writes = operatorWrites(podByIp);
    const byLeader = writes.filter((write) => write.by === leader);
    const byStandby = writes.filter((write) => write.by === standby);
    expect(writes.filter((write) => write.by !== leader && write.by !== standby)).toEqual([]);
    const lastRenew = byLeader.filter(isLeaseWrite).at(-1);
    expect(lastRenew, 'the killed leader never wrote its Lease').toBeDefined();
    const acquired = byStandby.find((write) => isLeaseWrite(write) && write.receivedAt > lastRenew!.doneAt);
    expect(acquired, 'the standby never wrote the Lease').toBeDefined();
    // The old leader was really scaling: it had written the Deployment before it died.
    expect(byLeader.filter((write) => write.what.includes(' deployments ')).length).toBeGreaterThan(0);

    // The standby waits out a full lease from when it saw the last renew (it never judges by the
    // holder's clock), then takes it at its next retry: one retry period to see the renew, one to try.
    const takeoverMs = acquired!.doneAt - lastRenew!.doneAt;
    console.log(
      `killed at ${replicasAtKill} replicas; ${standby} took the Lease ${takeoverMs} ms after ${leader}'s last renew ` +
        `(${acquired!.doneAt - killedAt} ms after the kill); ${byLeader.length} writes by the old leader, ${byStandby.length} by the new; ` +
        `attributed by token claim ${writes.filter((write) => write.attributedBy === 'token').length}, by IP ${writes.filter((write) => write.attributedBy === 'ip').length}`,
    );
    expect(takeoverMs).toBeGreaterThanOrEqual(leaseDurationMs);
    expect(takeoverMs).toBeLessThanOrEqual(leaseDurationMs + 2 * retryPeriodMs + 1_000);

    // Never two writers: nothing of the old leader's after the new one held the Lease, and
    // nothing of the new one's on a pool object before it did.
    expect(byLeader.filter((write) => write.doneAt >= acquired!.receivedAt)).toEqual([]);
    const standbyPoolWrites = byStandby.filter(isPoolWrite);
    // ...and the new leader finished the scale-up itself.
    expect(standbyPoolWrites.filter((write) => write.what.includes(' deployments ')).length).toBeGreaterThan(0);
    expect(standbyPoolWrites.filter((write) => write.receivedAt <= acquired!.doneAt)).toEqual([]);
  });
});
