import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '@workerpool/testkit/cluster';
import { createLogger } from '../logger.ts';
import { LeaderElector } from './leader-election.ts';

const kubeConfig = testKubeConfig();
const coordination = kubeConfig.makeApiClient(CoordinationV1Api);
const FAST = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 200 };
// A release hands over "at once": sooner than the lease would expire. A lease this long keeps that
// distinguishable from an expiry even when a loaded machine stalls the standby for seconds.
const HANDOVER = { leaseDurationMs: 8_000, renewDeadlineMs: 6_000, retryPeriodMs: 200 };
let namespace: TestNamespace;
beforeAll(async () => {
  namespace = await createTestNamespace(kubeConfig);
});
let crashing: ChildProcess | undefined;
afterAll(async () => {
  crashing?.kill('SIGKILL'); // never leave a lease holder behind when a test fails midway
  await namespace?.delete();
});

const elector = (identity: string, timing = FAST) =>
  new LeaderElector({
    kubeConfig,
    namespace: namespace.name,
    name: 'workerpool-operator',
    identity,
    logger: createLogger('fatal'),
    ...timing,
  });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const holder = async () =>
  (await coordination.readNamespacedLease({ name: 'workerpool-operator', namespace: namespace.name })).spec;

describe('leader election on a Lease', () => {
  it('lets one replica lead while it renews, and hands over at once when it releases the lease', async () => {
    const first = elector('replica-a', HANDOVER);
    const second = elector('replica-b', HANDOVER);
    await first.acquire(() => undefined);
    let secondLeads = false;
    const secondAcquired = second.acquire(() => undefined).then(() => (secondLeads = true));
    await sleep(1.5 * HANDOVER.leaseDurationMs);
    expect(first.isLeader).toBe(true);
    expect(secondLeads).toBe(false);

    const releasedAt = Date.now();
    await first.release();
    await secondAcquired;
    expect(Date.now() - releasedAt).toBeLessThan(HANDOVER.leaseDurationMs);
    expect(await holder()).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
    await second.release();
  });

  it('hands the lease back even when a renew is under way as it stops', async () => {
    // Renewing every 10 ms keeps a renew in flight most of the time; a release that raced it read
    // a resourceVersion the renew then replaced, and its hand-back was refused with a conflict
    // (seen as a missing 'released the leader lease' on a loaded CI machine).
    const RENEWING = { leaseDurationMs: 8_000, renewDeadlineMs: 6_000, retryPeriodMs: 10 };
    for (let round = 0; round < 12; round++) {
      const leader = elector(`replica-renewing-${round}`, RENEWING);
      await leader.acquire(() => undefined);
      await sleep(15 + (round % 4) * 7);
      await leader.release();
      expect((await holder())?.holderIdentity ?? '', `round ${round}`).toBe('');
    }
  });

  it('takes over from a leader killed with SIGKILL once its lease expires', async () => {
    crashing = spawn(
      process.execPath,
      [
        join(import.meta.dirname, '..', 'testing', 'lease-holder.ts'),
        inject('kubeconfigPath'),
        namespace.name,
        'replica-killed',
        String(FAST.leaseDurationMs),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await once(crashing.stdout as NodeJS.ReadableStream, 'data');
    expect((await holder())?.holderIdentity).toBe('replica-killed');

    const standby = elector('replica-standby');
    let leadsAt = 0;
    const acquired = standby.acquire(() => undefined).then(() => (leadsAt = Date.now()));
    await sleep(FAST.leaseDurationMs);
    expect(standby.isLeader).toBe(false);
    const killedAt = Date.now();
    crashing.kill('SIGKILL');
    await acquired;
    expect(leadsAt - killedAt).toBeGreaterThanOrEqual(FAST.leaseDurationMs - 2 * FAST.retryPeriodMs);
    expect(leadsAt - killedAt).toBeLessThan(FAST.leaseDurationMs + 3_000);
    expect((await holder())?.holderIdentity).toBe('replica-standby');
    await standby.release();
  });
});
