import { describe, expect, it } from 'vitest';
import type { QueueReading } from '../signals/queue-reading.ts';
import { decideScale } from './decide-scale.ts';
import { capacityCeiling } from './queue-capacity.ts';
import { reading, scalingSpec } from './test-helpers.ts';
import { initialScalerState, SCALE_REASONS, type Decision, type ScaleInput } from './types.ts';

// A BullMQ pool of 10-slot replicas running 2 s jobs, read every 2 s, that falls behind: 2,000
// jobs wait and the oldest is past the 30 s target. The load alone asks for many replicas; the
// queue's own global concurrency or rate limit says how many can do anything.
const POLL_MS = 2000;

function behind(capacity: QueueReading['capacity'], scaling = scalingSpec({ maxReplicas: 50 }), minutes = 2): Decision {
  const input: Omit<ScaleInput, 'nowMs' | 'reading' | 'state'> = {
    format: 'bullmq',
    scaling,
    currentReplicas: 2,
    readyReplicas: 2,
  };
  let state = initialScalerState();
  let last: Decision | undefined;
  for (let atMs = 0; atMs <= minutes * 60_000; atMs += POLL_MS) {
    // The two replicas run 10 jobs/s between them; 40 jobs/s arrive, so the queue grows.
    const depth = 500 + (atMs / 1000) * 30;
    last = decideScale({
      ...input,
      nowMs: atMs,
      reading: reading({
        observedAtMs: atMs,
        depth,
        oldestJobAgeSeconds: 40 + atMs / 1000,
        busy: 20,
        completedTotal: (atMs / 1000) * 10,
        ...(capacity === undefined ? {} : { capacity }),
      }),
      state,
    });
    state = last.state;
  }
  return last as Decision;
}

describe('capacityCeiling', () => {
  const measured = { perReplicaJobsPerSecond: 5, serviceEstimate: 'completions' as const };

  it('turns a global concurrency into replicas of the pool concurrency, rounding up', () => {
    expect(capacityCeiling({ maxActiveJobs: 25 }, 10, measured)).toEqual({
      replicas: 3,
      bound: 'queue global concurrency 25',
    });
  });

  it('turns a rate limit into replicas only through a measured throughput, and keeps the lower bound', () => {
    expect(capacityCeiling({ maxJobsPerSecond: 12 }, 10, measured)).toEqual({
      replicas: 3,
      bound: 'queue rate limit 12 jobs/s',
    });
    expect(capacityCeiling({ maxJobsPerSecond: 12 }, 10, { ...measured, serviceEstimate: 'assumed' })).toBeUndefined();
    expect(capacityCeiling({ maxActiveJobs: 100, maxJobsPerSecond: 12 }, 10, measured)?.bound).toBe(
      'queue rate limit 12 jobs/s',
    );
    expect(capacityCeiling(undefined, 10, measured)).toBeUndefined();
  });
});

describe('decideScale under a queue capacity', () => {
  it('sizes for the load when the queue sets no limit', () => {
    const free = behind(undefined);
    expect(free.desiredReplicas).toBeGreaterThan(10);
    expect(free.reasonCode).not.toBe(SCALE_REASONS.queueCapacity);
  });

  it('runs no more replicas than the global concurrency can keep busy, and says which bound won', () => {
    const free = behind(undefined);
    const capped = behind({ maxActiveJobs: 40 });
    expect(capped.desiredReplicas).toBe(4);
    expect(capped.reasonCode).toBe(SCALE_REASONS.queueCapacity);
    expect(capped.reason).toMatch(
      new RegExp(
        `: 2 -> 4 \\(capped by the queue global concurrency 40: load asks for ${free.recommendedReplicas}\\)$`,
      ),
    );
  });

  it('caps at the rate limit once the throughput per replica is measured', () => {
    const capped = behind({ maxJobsPerSecond: 15 });
    // 5 jobs/s per replica (10 slots, 2 s jobs): 15 jobs/s keep 3 replicas busy.
    expect(capped.signals?.perReplicaJobsPerSecond).toBeCloseTo(5, 1);
    expect(capped.desiredReplicas).toBe(3);
    expect(capped.reason).toContain('(capped by the queue rate limit 15 jobs/s: load asks for');
  });

  it('never goes below minReplicas for a ceiling', () => {
    const capped = behind({ maxActiveJobs: 10 }, scalingSpec({ minReplicas: 3, maxReplicas: 50 }));
    expect(capped.desiredReplicas).toBe(3);
  });

  it('leaves maxReplicas the bound when it is the lower one', () => {
    const capped = behind({ maxActiveJobs: 400 }, scalingSpec({ maxReplicas: 6 }));
    expect(capped.desiredReplicas).toBe(6);
    expect(capped.reasonCode).not.toBe(SCALE_REASONS.queueCapacity);
  });
});
