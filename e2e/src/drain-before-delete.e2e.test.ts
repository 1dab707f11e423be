import { describe, it } from 'vitest';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { Queue } from '@workerpool/worker-runtime';
import { exampleNativePool } from './harness/e2e-pool.ts';
import { SidekiqProducer, sidekiqTemplate } from './harness/sidekiq.ts';
import { expectDrainBeforeDeleteProof } from './harness/step-down.ts';

// Drain before delete on real pods (issue 20 item 5), native and real Sidekiq 6.4, each its own
// test: two pools of six pods of five slots, one with drain before delete and one without, under
// the same load of 20-30 s jobs that falls in steps, until the engine has taken both down to one
// pod, five scale-downs each (harness/step-down.ts). With drain the operator quiets the pod it
// chose, waits for its jobs and only then removes it: no run is cut and every job runs exactly
// once. Without, the ReplicaSet removes the least busy pod as it is, and its cut jobs run again
// (native: grace 8 s, so a 3 s drain, hands them back; Sidekiq -t 3 pushes them back): counted
// and printed.
//
// The two tests run side by side on the one node: the engine's 60 s between scale-downs sets
// each test's length, not the node's work (4 pools, 24 pods at most, mostly sleeping jobs).

const SLOTS = 5;
// Longer than a job, so a quieted pod always finishes; the grace period stays shorter than a job,
// as in a pool whose jobs outlast it: that is when drain before delete matters.
const DRAIN_DEADLINE_SECONDS = 60;
const GRACE_SECONDS = 8;

describe.concurrent('pools scaled down by the engine as a load of 20-30 s jobs falls in steps', () => {
  it(
    'native: with drain, no run is interrupted and every job runs exactly once; without, runs are cut (counted)',
    ({ expect }) =>
      expectDrainBeforeDeleteProof(
        {
          format: 'native (20-30 s jobs)',
          concurrency: SLOTS,
          build: (s, drain, evidence, scaling) => {
            const queue = `drain-native-${drain ? 'on' : 'off'}`;
            const pool = exampleNativePool(s.namespace, queue, s.redis.url, {
              recordPrefix: evidence.prefix,
              scaling,
              drain: { enabled: drain, deadlineSeconds: DRAIN_DEADLINE_SECONDS },
            });
            pool.spec.template!.spec!.terminationGracePeriodSeconds = GRACE_SECONDS;
            const producer = new Queue(queue, { connection: s.redis.url });
            return {
              pool,
              enqueue: async (ms) => (await producer.add('work', { ms })).id,
              close: () => producer.close(),
            };
          },
          also: async (drainOn, expect) => {
            // The drain deadline (60 s) outlasts the grace period (8 s): status warns, naming both.
            const grace = (await drainOn.pool()).status?.conditions?.find((c) => c.type === 'GracePeriod');
            expect([grace?.status, grace?.reason]).toEqual(['False', 'GracePeriodTooShort']);
            expect(grace?.message).toContain(
              `terminationGracePeriodSeconds ${GRACE_SECONDS}s is shorter than the drain deadline of ${DRAIN_DEADLINE_SECONDS}s`,
            );
            expect(await drainOn.events()).toContainEqual(expect.stringMatching(/removing drained pod/));
          },
        },
        expect,
      ),
    900_000,
  );

  it(
    'Sidekiq 6.4: with drain, no run is interrupted and every job runs exactly once; without, runs are cut (counted)',
    ({ expect }) =>
      expectDrainBeforeDeleteProof(
        {
          format: 'sidekiq (20-30 s jobs)',
          concurrency: SLOTS,
          build: (s, drain, evidence, scaling) => {
            const part = drain ? 'on' : 'off';
            const queue = `q-${part}-${s.namespace}`;
            const pool = templatePool(s.namespace, `rails-${part}`, {
              template: sidekiqTemplate({
                redisUrl: s.redis.url,
                queue,
                recordPrefix: evidence.prefix,
                concurrency: SLOTS,
                shutdownSeconds: 3,
                graceSeconds: GRACE_SECONDS,
              }),
              queue: { format: 'sidekiq', names: [queue], redis: { url: s.redis.url } },
              scaling,
              drain: { enabled: drain, deadlineSeconds: DRAIN_DEADLINE_SECONDS },
            });
            const producer = new SidekiqProducer(s.redis.url, queue);
            return { pool, enqueue: (ms) => producer.push(ms), close: () => producer.close() };
          },
          also: async (drainOn, expect) => {
            expect(await drainOn.events()).toContainEqual(expect.stringMatching(/removing drained pod/));
          },
        },
        expect,
      ),
    900_000,
  );
});
