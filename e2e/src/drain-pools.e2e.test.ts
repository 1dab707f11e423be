import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_PREFIX, queueKeys } from '@workerpool/worker-runtime/protocol';
import { enqueueWork, exampleNativePool } from './harness/e2e-pool.ts';
import { expectDrainBeforeDeleteProof } from './harness/step-down.ts';

// Drain before delete on real native pods (issue 20 item 5): two pools of six example workers,
// one with drain before delete and one without, each pod always running a 20 s job, taken down to
// one together in five steps (harness/step-down.ts). With drain the operator quiets the pod it
// chose, waits for its job and only then removes it: no run is cut and every job runs exactly
// once. With drain off the ReplicaSet removes busy pods, whose workers (grace 8 s, so a 3 s
// drain) hand the cut jobs back to run again: counted and printed.

const JOB_MS = 20_000;
const PODS = 6;

describe('native pools scaled down in steps while every pod runs a 20 s job', () => {
  it(
    'with drain, no run is interrupted and every job runs exactly once; without, runs are cut (counted)',
    () =>
      expectDrainBeforeDeleteProof({
        format: 'native (20 s jobs)',
        from: PODS,
        build: (s, drain, evidence) => {
          const queue = `drain-native-${drain ? 'on' : 'off'}`;
          const pool = exampleNativePool(s.namespace, queue, s.redis.url, {
            recordPrefix: evidence.prefix,
            replicas: PODS,
            scaling: { minReplicas: 1, maxReplicas: PODS, concurrency: 1, pollIntervalSeconds: 1 },
            // Longer than a job, so a quieted pod always finishes; the grace period stays shorter than a
            // job, as in a pool whose jobs outlast it: that is when drain before delete matters.
            drain: { enabled: drain, deadlineSeconds: 60 },
          });
          pool.spec.template!.spec!.terminationGracePeriodSeconds = 8;
          const wait = queueKeys(DEFAULT_KEY_PREFIX, queue).wait;
          return {
            pool,
            waiting: (redis) => redis.llen(wait),
            enqueueOne: async () => (await enqueueWork(s.redis.url, queue, 1, JOB_MS))[0] ?? '',
          };
        },
        also: async (drainOn) => {
          // The drain deadline (60 s) outlasts the grace period (8 s): status warns, naming both.
          const grace = (await drainOn.pool()).status?.conditions?.find((c) => c.type === 'GracePeriod');
          expect([grace?.status, grace?.reason]).toEqual(['False', 'GracePeriodTooShort']);
          expect(grace?.message).toContain(
            'terminationGracePeriodSeconds 8s is shorter than the drain deadline of 60s',
          );
          expect(await drainOn.events()).toContainEqual(expect.stringMatching(/removing drained pod/));
        },
      }),
    480_000,
  );
});
