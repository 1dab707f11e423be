import { afterEach, describe, expect, it } from 'vitest';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { startScenario, type Scenario } from './harness/scenario.ts';
import { pushSidekiqJobs, sidekiqTemplate } from './harness/sidekiq.ts';
import { stepDown, type StepDownOutcome } from './harness/step-down.ts';

// Drain before delete on real Sidekiq 6.4 pods (issue 20 item 5): six Sidekiq processes of one
// thread, each always running a 20 s job pushed by the real Sidekiq client, taken down to one in
// five steps (harness/step-down.ts). With drain the operator sends the chosen process what
// Sidekiq::Process#quiet! sends (TSTP on <identity>-signals), waits until its heartbeat says quiet
// with busy 0, and only then removes the pod: no run is cut and every job runs exactly once. With
// drain off the ReplicaSet removes busy pods, and Sidekiq (-t 3, grace 8 s) pushes the cut jobs
// back to run again: counted and printed.

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

const JOB_MS = 20_000;

async function sidekiqStepDown(drain: boolean): Promise<StepDownOutcome> {
  scenario = await startScenario();
  const s = scenario;
  const queue = `q-${s.namespace}`;
  const pool = templatePool(s.namespace, 'rails', {
    template: sidekiqTemplate({
      redisUrl: s.redis.url,
      queue,
      recordPrefix: s.evidence.prefix,
      concurrency: 1,
      shutdownSeconds: 3,
      graceSeconds: 8,
    }),
    queue: { format: 'sidekiq', names: [queue], redis: { url: s.redis.url } },
    replicas: 6,
    scaling: { minReplicas: 1, maxReplicas: 6, concurrency: 1, pollIntervalSeconds: 1 },
    drain: { enabled: drain, deadlineSeconds: 60 },
  });
  return stepDown(s, {
    label: `sidekiq (20 s jobs), drain before delete ${drain ? 'on' : 'off'}`,
    pool,
    from: 6,
    waiting: (redis) => redis.llen(`queue:${queue}`),
    enqueueOne: () => Promise.resolve(pushSidekiqJobs(s.redis.url, queue, 1, JOB_MS)[0] ?? ''),
  });
}

describe('a pool of real Sidekiq pods scaled down in steps while every process runs a 20 s job', () => {
  it('quiets each process before removing its pod: no run interrupted, every job run exactly once', async () => {
    const outcome = await sidekiqStepDown(true);
    expect({ interrupted: outcome.interrupted, notOnce: outcome.notOnce, scaleDowns: outcome.scaleDowns }).toEqual({
      interrupted: 0,
      notOnce: [],
      scaleDowns: 5,
    });
    expect(
      (await scenario!.watch('rails').pool()).status?.conditions?.find((c) => c.type === 'IdleFirstScaleDown')?.reason,
    ).toBe('DrainBeforeDelete');
  });

  it('with drain off, removes busy processes: the interrupted runs are counted, and every job is still done', async () => {
    const outcome = await sidekiqStepDown(false);
    expect(outcome.scaleDowns).toBe(5);
    // The control run: every pod is always mid-job, so the ReplicaSet's own choice cuts runs short.
    // Were none cut here, the drain-on run's zero would prove nothing. The count is printed above.
    expect(outcome.interrupted).toBeGreaterThan(0);
  });
});
