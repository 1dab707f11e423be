import { Queue as BullQueue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { WorkerPoolSpecInput } from '@workerpool/operator/api/defaults';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { waitForPolls } from '@workerpool/operator/testing/loop-evidence';
import { OPERATOR_POLL, useOperatorNamespace } from '@workerpool/operator/testing/operator-namespace';
import { Queue } from '@workerpool/worker-runtime';

// The bounds no peer reads, against a real kube-apiserver and a real redis-server: a queue's own
// latency target (urgency tiers in one pool) and a BullMQ queue's global concurrency. Each shows
// in status.lastScaleReason which bound won, and the Deployment follows it. No worker runs: the
// jobs wait, and the test plays the controller-manager by marking the first replica ready.

const POLL_SECONDS = 1;
const ns = useOperatorNamespace({ redis: {} });

const scaling = {
  minReplicas: 1,
  maxReplicas: 20,
  concurrency: 5,
  pollIntervalSeconds: POLL_SECONDS,
  podStartupSeconds: 2,
  scaleDown: { stabilizationWindowSeconds: 0 },
};

async function createReadyPool(name: string, spec: Partial<WorkerPoolSpecInput>): Promise<void> {
  await ns.createPool(templatePool(ns.name, name, spec));
  await expect.poll(() => ns.condition(name, 'SignalsAvailable').then((c) => c?.status), OPERATOR_POLL).toBe('True');
  await expect.poll(() => ns.replicas(name), OPERATOR_POLL).toBe(1);
  await ns.completeRollout(name);
}

const reasonOf = async (name: string) => (await ns.getPool(name)).status?.lastScaleReason ?? '';

describe('per-queue latency targets on a real API server and Redis', () => {
  const queue = (tiers?: Record<string, number>): Partial<WorkerPoolSpecInput> => ({
    queue: { format: 'native', names: ['critical', 'default'], redis: { url: ns.redis.url } },
    scaling: {
      ...scaling,
      targetLatencySeconds: 60,
      ...(tiers === undefined ? {} : { queueTargetLatencySeconds: tiers }),
    },
  });

  it('scales up when only the critical queue is behind its 5 s target, and names it; the same pool without tiers never does', async () => {
    await createReadyPool('tiered', queue({ critical: 5, default: 60 }));
    await createReadyPool('untiered', queue());
    const critical = new Queue('critical', { connection: ns.redis.url });
    const backlog = new Queue('default', { connection: ns.redis.url });
    try {
      await critical.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'charge', data: { i } })));
      await backlog.addBulk(Array.from({ length: 5 }, (_, i) => ({ name: 'report', data: { i } })));
      // Nothing takes the jobs: within seconds the critical ones pass 5 s, far within the pool's 60 s.
      await expect.poll(() => ns.replicas('tiered'), { timeout: 30_000, interval: 200 }).toBeGreaterThan(1);
      // The engine may take the burst back down at the next poll (no scale-down window here), so
      // the scale-up is read from the Events, which keep it, not from lastScaleReason, which moves on.
      await expect
        .poll(async () => (await ns.events('tiered')).map((event) => event.message ?? ''), OPERATOR_POLL)
        .toContainEqual(
          expect.stringMatching(
            /^Scaled Deployment tiered from 1 to \d+ replicas: queue critical: oldest job [\d.]+s (>|<=) its target 5s, backlog 30; oldest job .*: 1 -> \d+$/,
          ),
        );
      // A few more polls: the pool with only the 60 s target sizes for the burst as a whole (its
      // arrival rate may scale it too), never for the critical queue's own target.
      await waitForPolls(ns.operator.metrics, 3);
      const untiered = (await ns.events('untiered')).map((event) => event.message ?? '');
      expect(untiered.join('\n')).not.toMatch(/queue critical/);
      expect(await reasonOf('untiered')).not.toMatch(/queue critical/);
    } finally {
      await critical.close();
      await backlog.close();
    }
  });
});

describe('a BullMQ queue global concurrency on a real API server and Redis', () => {
  it('caps the replicas at what the queue lets run, and says so in lastScaleReason', async () => {
    const connection = { host: '127.0.0.1', port: ns.redis.port };
    const emails = new BullQueue('emails', { connection });
    try {
      // BullMQ's own API writes meta.concurrency: 10 jobs at once across every worker = 2 replicas of 5.
      await emails.setGlobalConcurrency(10);
      await createReadyPool('emails', {
        queue: { format: 'bullmq', names: ['emails'], redis: { url: ns.redis.url } },
        scaling: { ...scaling, targetLatencySeconds: 5 },
      });
      await emails.addBulk(Array.from({ length: 400 }, (_, i) => ({ name: 'send', data: { i } })));
      await expect.poll(() => ns.replicas('emails'), { timeout: 30_000, interval: 200 }).toBe(2);
      await expect
        .poll(() => reasonOf('emails'), OPERATOR_POLL)
        .toMatch(/\(capped by the queue global concurrency 10: load asks for \d+\)$/);
      const asked = Number(/load asks for (\d+)\)$/.exec(await reasonOf('emails'))?.[1]);
      expect(asked).toBeGreaterThan(2);
      // The backlog stays and keeps aging; the cap still holds a few polls later.
      await waitForPolls(ns.operator.metrics, 3);
      expect(await ns.replicas('emails')).toBe(2);
      expect((await ns.getPool('emails')).status?.queue?.depth).toBe(400);
    } finally {
      await emails.close();
    }
  });
});
