import { describe, it } from 'vitest';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { pushSidekiqJobs, sidekiqTemplate } from './harness/sidekiq.ts';
import { expectDrainBeforeDeleteProof } from './harness/step-down.ts';

// Drain before delete on real Sidekiq 6.4 pods (issue 20 item 5): two pools of six Sidekiq
// processes of one thread, one with drain before delete and one without, each process always
// running a 20 s job pushed by the real Sidekiq client, taken down to one together in five steps
// (harness/step-down.ts). With drain the operator sends the chosen process what
// Sidekiq::Process#quiet! sends (TSTP on <identity>-signals), waits until its heartbeat says quiet
// with busy 0, and only then removes the pod: no run is cut and every job runs exactly once. With
// drain off the ReplicaSet removes busy pods, and Sidekiq (-t 3, grace 8 s) pushes the cut jobs
// back to run again: counted and printed.

const JOB_MS = 20_000;
const PODS = 6;

describe('pools of real Sidekiq pods scaled down in steps while every process runs a 20 s job', () => {
  it(
    'with drain, no run is interrupted and every job runs exactly once; without, runs are cut (counted)',
    () =>
      expectDrainBeforeDeleteProof({
        format: 'sidekiq (20 s jobs)',
        from: PODS,
        build: (s, drain, evidence) => {
          const part = drain ? 'on' : 'off';
          const queue = `q-${part}-${s.namespace}`;
          const pool = templatePool(s.namespace, `rails-${part}`, {
            template: sidekiqTemplate({
              redisUrl: s.redis.url,
              queue,
              recordPrefix: evidence.prefix,
              concurrency: 1,
              shutdownSeconds: 3,
              graceSeconds: 8,
            }),
            queue: { format: 'sidekiq', names: [queue], redis: { url: s.redis.url } },
            replicas: PODS,
            scaling: { minReplicas: 1, maxReplicas: PODS, concurrency: 1, pollIntervalSeconds: 1 },
            drain: { enabled: drain, deadlineSeconds: 60 },
          });
          return {
            pool,
            waiting: (redis) => redis.llen(`queue:${queue}`),
            enqueueOne: () => Promise.resolve(pushSidekiqJobs(s.redis.url, queue, 1, JOB_MS)[0] ?? ''),
          };
        },
      }),
    480_000,
  );
});
