import { describe, expect, it } from 'vitest';
import type { QueueBacklog, QueueReading } from '../signals/queue-reading.ts';
import { decideScale } from './decide-scale.ts';
import { describeQueueBound, sizeForQueueTargets } from './queue-targets.ts';
import { sizeReplicas, type SizingInput } from './sizing.ts';
import { reading, scalingSpec } from './test-helpers.ts';
import { initialScalerState, SCALE_REASONS, type Decision, type ScaleInput, type ScalerState } from './types.ts';

// A pool of two tiers: `critical` must start within 5 s, `default` within the pool's 60 s.
// 4 replicas of 10 slots run 2 s jobs (5 jobs/s per replica) for 20 jobs/s, read every 2 s;
// warmUp() gives the engine two minutes of that so that it has measured everything.
const POLL_MS = 2000;
const TIERS = { critical: 5 };

function tieredReading(atMs: number, queues: QueueBacklog[], overrides: Partial<QueueReading> = {}): QueueReading {
  return reading({
    observedAtMs: atMs,
    depth: queues.reduce((sum, q) => sum + q.depth, 0),
    oldestJobAgeSeconds: Math.max(0, ...queues.map((q) => q.oldestJobAgeSeconds ?? 0)),
    busy: 40,
    completedTotal: (atMs / 1000) * 20,
    queues,
    ...overrides,
  });
}

const idleQueues = (): QueueBacklog[] => [
  { name: 'critical', depth: 0, oldestJobAgeSeconds: 0 },
  { name: 'default', depth: 0, oldestJobAgeSeconds: 0 },
];

const pool = (queueTargets: Record<string, number> | undefined) => ({
  format: 'native' as const,
  scaling: scalingSpec({
    maxReplicas: 50,
    targetLatencySeconds: 60,
    ...(queueTargets === undefined ? {} : { queueTargetLatencySeconds: queueTargets }),
    scaleDown: { stabilizationWindowSeconds: 0 },
  }),
  currentReplicas: 4,
  readyReplicas: 4,
});

/** Two minutes at the steady rate with a backlog that stays as it is (idle queues by default). */
function warmUp(input: Omit<ScaleInput, 'nowMs' | 'reading' | 'state'>, queues = idleQueues()): ScalerState {
  let state = initialScalerState();
  for (let atMs = 0; atMs <= 120_000; atMs += POLL_MS)
    state = decideScale({ ...input, nowMs: atMs, reading: tieredReading(atMs, queues), state }).state;
  return state;
}

/** The next poll after a warm-up with this backlog standing: the pool's arrival rate is the steady 20 jobs/s. */
function decideAfterWarmUp(queueTargets: Record<string, number> | undefined, queues: QueueBacklog[]): Decision {
  const input = pool(queueTargets);
  return decideScale({
    ...input,
    nowMs: 122_000,
    reading: tieredReading(122_000, queues),
    state: warmUp(input, queues),
  });
}

// 200 critical jobs, the oldest 12 s old: far behind 5 s, while 12 s is well within the pool's 60 s.
const criticalBehind = (): QueueBacklog[] => [
  { name: 'critical', depth: 200, oldestJobAgeSeconds: 12 },
  { name: 'default', depth: 10, oldestJobAgeSeconds: 3 },
];

describe('per-queue latency targets', () => {
  it('scales up for a critical queue behind its own target while the pool-wide latency is fine', () => {
    const poolOnly = decideAfterWarmUp(undefined, criticalBehind());
    expect(poolOnly.desiredReplicas).toBe(4);

    const tiered = decideAfterWarmUp(TIERS, criticalBehind());
    expect(tiered.desiredReplicas).toBeGreaterThan(4);
    expect(tiered.reasonCode).toBe(SCALE_REASONS.queueLatency);
    expect(tiered.reason).toMatch(
      new RegExp(
        `^queue critical: oldest job 12s > its target 5s, backlog 200; oldest job 12s <= target 60s, .*: 4 -> ${tiered.desiredReplicas}$`,
      ),
    );
  });

  it('does not scale up while every queue is within its own target', () => {
    const within = [
      { name: 'critical', depth: 6, oldestJobAgeSeconds: 1.5 },
      { name: 'default', depth: 30, oldestJobAgeSeconds: 20 },
    ];
    const tiered = decideAfterWarmUp(TIERS, within);
    expect(tiered.desiredReplicas).toBe(4);
    expect(tiered.reasonCode).not.toBe(SCALE_REASONS.queueLatency);
    expect(tiered).toEqual(decideAfterWarmUp(undefined, within));
  });

  it('takes the largest need over the queues behind their targets, and names that queue', () => {
    const queues = [
      { name: 'critical', depth: 200, oldestJobAgeSeconds: 12 },
      { name: 'urgent', depth: 300, oldestJobAgeSeconds: 14 },
      { name: 'default', depth: 10, oldestJobAgeSeconds: 3 },
    ];
    const criticalOnly = decideAfterWarmUp({ critical: 5 }, queues);
    const urgentOnly = decideAfterWarmUp({ urgent: 10 }, queues);
    expect(criticalOnly.reason).toMatch(/^queue critical: oldest job 12s > its target 5s, backlog 200; /);
    expect(urgentOnly.reason).toMatch(/^queue urgent: oldest job 14s > its target 10s, backlog 300; /);
    const both = decideAfterWarmUp({ critical: 5, urgent: 10 }, queues);
    expect(both.desiredReplicas).toBe(Math.max(criticalOnly.desiredReplicas, urgentOnly.desiredReplicas));
    const winner = criticalOnly.desiredReplicas >= urgentOnly.desiredReplicas ? 'critical' : 'urgent';
    expect(both.reason).toMatch(new RegExp(`^queue ${winner}: `));
  });

  it('falls back to the pool rule when the reading has no per-queue data, or cannot date the queue', () => {
    const input = pool(TIERS);
    const state = warmUp(input, criticalBehind());
    const noQueues = tieredReading(122_000, criticalBehind(), { queues: undefined });
    const withoutData = decideScale({ ...input, nowMs: 122_000, reading: noQueues, state });
    const undated = tieredReading(122_000, [
      { name: 'critical', depth: 200, oldestJobAgeSeconds: undefined },
      { name: 'default', depth: 10, oldestJobAgeSeconds: 3 },
    ]);
    const withoutAge = decideScale({ ...input, nowMs: 122_000, reading: undated, state });
    const poolRule = decideAfterWarmUp(undefined, criticalBehind());
    expect(withoutData).toEqual({ ...poolRule, state: withoutData.state });
    expect(withoutAge.desiredReplicas).toBe(poolRule.desiredReplicas);
    expect(withoutAge.reasonCode).not.toBe(SCALE_REASONS.queueLatency);
  });

  it('falls back to holding when the whole reading is stale, as without tiers', () => {
    const input = pool(TIERS);
    const stale = tieredReading(100_000, criticalBehind());
    const decision = decideScale({ ...input, nowMs: 122_000, reading: stale, state: warmUp(input) });
    expect(decision.reasonCode).toBe(SCALE_REASONS.signalsUnavailable);
    expect(decision.desiredReplicas).toBe(4);
  });

  it('does not size a paused queue for its own target', () => {
    const queues = [{ ...criticalBehind()[0]!, paused: true }, criticalBehind()[1]!];
    expect(decideAfterWarmUp(TIERS, queues).desiredReplicas).toBe(4);
  });

  it('caps a tier by the queue capacity like any other need, and says both', () => {
    const input = pool(TIERS);
    const capped = tieredReading(122_000, criticalBehind(), { capacity: { maxActiveJobs: 50 } });
    const decision = decideScale({ ...input, nowMs: 122_000, reading: capped, state: warmUp(input, criticalBehind()) });
    expect(decision.desiredReplicas).toBe(5);
    expect(decision.reasonCode).toBe(SCALE_REASONS.queueCapacity);
    expect(decision.reason).toMatch(
      /^queue critical: .*\(capped by the queue global concurrency 50: load asks for \d+\)$/,
    );
  });
});

describe('sizeForQueueTargets', () => {
  const input: SizingInput = {
    targetSeconds: 60,
    pollSeconds: 2,
    startupSeconds: 10,
    concurrencyPerReplica: 10,
    arrivalRate: 20,
    sustainedArrivalRate: 20,
    serviceTimeSeconds: 2,
    waiting: 210,
    oldestAgeSeconds: 12,
    busy: 40,
    readyReplicas: 4,
    startingReplicas: 0,
    startingReadyInSeconds: 10,
  };

  it('is the pool sizing itself without targets', () => {
    expect(sizeForQueueTargets(input, undefined, criticalBehind())).toEqual({
      sizing: sizeReplicas(input),
      bound: undefined,
    });
  });

  it('keeps the scale-down headroom of every need, not only the winner', () => {
    const { sizing, bound } = sizeForQueueTargets(input, TIERS, criticalBehind());
    expect(bound).toEqual({ queue: 'critical', targetSeconds: 5, depth: 200, oldestJobAgeSeconds: 12 });
    expect(sizing.replicas).toBeGreaterThan(sizeReplicas(input).replicas);
    expect(sizing.keepReplicas).toBeGreaterThanOrEqual(sizing.replicas);
  });

  it('describes a bound the way lastScaleReason shows it', () => {
    expect(describeQueueBound({ queue: 'critical', targetSeconds: 5, depth: 3, oldestJobAgeSeconds: 4.25 })).toBe(
      'queue critical: oldest job 4.3s <= its target 5s, backlog 3',
    );
  });
});
