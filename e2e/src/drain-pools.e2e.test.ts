import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_KEY_PREFIX, queueKeys } from '@workerpool/worker-runtime/protocol';
import { enqueueWork, exampleNativePool } from './harness/e2e-pool.ts';
import { startScenario, type Scenario } from './harness/scenario.ts';
import { stepDown, type StepDownOutcome } from './harness/step-down.ts';

// Drain before delete on real native pods (issue 20 item 5): six example workers, each always
// running a 20 s job, taken down to one in five steps (harness/step-down.ts). With drain the
// operator quiets the pod it chose, waits for its job and only then removes it: no run is cut and
// every job runs exactly once. With drain off the ReplicaSet removes busy pods, whose workers
// (grace 8 s, so a 3 s drain) hand the cut jobs back to run again: counted and printed.

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

const JOB_MS = 20_000;
const QUEUE = 'drain-native';

async function nativeStepDown(drain: boolean): Promise<StepDownOutcome> {
  scenario = await startScenario();
  const s = scenario;
  const pool = exampleNativePool(s.namespace, QUEUE, s.redis.url, {
    recordPrefix: s.evidence.prefix,
    replicas: 6,
    scaling: { minReplicas: 1, maxReplicas: 6, concurrency: 1, pollIntervalSeconds: 1 },
    // Longer than a job, so a quieted pod always finishes; the grace period stays shorter than a
    // job, as in a pool whose jobs outlast it: that is when drain before delete matters.
    drain: { enabled: drain, deadlineSeconds: 60 },
  });
  pool.spec.template!.spec!.terminationGracePeriodSeconds = 8;
  const wait = queueKeys(DEFAULT_KEY_PREFIX, QUEUE).wait;
  return stepDown(s, {
    label: `native (20 s jobs), drain before delete ${drain ? 'on' : 'off'}`,
    pool,
    from: 6,
    waiting: (redis) => redis.llen(wait),
    enqueueOne: async () => (await enqueueWork(s.redis.url, QUEUE, 1, JOB_MS))[0] ?? '',
  });
}

describe('a native pool scaled down in steps while every pod runs a 20 s job', () => {
  it('drains each pod before removing it: no run interrupted, every job run exactly once', async () => {
    const outcome = await nativeStepDown(true);
    expect({ interrupted: outcome.interrupted, notOnce: outcome.notOnce, scaleDowns: outcome.scaleDowns }).toEqual({
      interrupted: 0,
      notOnce: [],
      scaleDowns: 5,
    });
    const watch = scenario!.watch(QUEUE);
    const status = (await watch.pool()).status;
    expect(status?.conditions?.find((c) => c.type === 'IdleFirstScaleDown')?.reason).toBe('DrainBeforeDelete');
    // The drain deadline (60 s) outlasts the grace period (8 s): status warns, naming both.
    const grace = status?.conditions?.find((c) => c.type === 'GracePeriod');
    expect([grace?.status, grace?.reason]).toEqual(['False', 'GracePeriodTooShort']);
    expect(grace?.message).toContain('terminationGracePeriodSeconds 8s is shorter than the drain deadline of 60s');
    expect(await watch.events()).toContainEqual(expect.stringMatching(/removing drained pod/));
  });

  it('with drain off, removes busy pods: the interrupted runs are counted, and every job is still done', async () => {
    const outcome = await nativeStepDown(false);
    expect(outcome.scaleDowns).toBe(5);
    // The control run: every pod is always mid-job, so the ReplicaSet's own choice cuts runs short.
    // Were none cut here, the drain-on run's zero would prove nothing. The count is printed above.
    expect(outcome.interrupted).toBeGreaterThan(0);
  });
});
