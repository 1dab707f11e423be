import { describe, expect, it } from 'vitest';
import {
  effectiveTargetSeconds,
  QUEUE_BUFFER_FLOOR,
  sizeReplicas,
  steadyFloorFraction,
  steadyStateReplicas,
  waitingOlderThan,
  type SizingInput,
} from './sizing.ts';

// A pool of 10-slot replicas running 2 s jobs: 5 jobs/s per replica.
const base: SizingInput = {
  targetSeconds: 30,
  pollSeconds: 2,
  startupSeconds: 10,
  concurrencyPerReplica: 10,
  arrivalRate: 0,
  sustainedArrivalRate: 0,
  serviceTimeSeconds: 2,
  waiting: 0,
  oldestAgeSeconds: 0,
  busy: 0,
  readyReplicas: 4,
  startingReplicas: 0,
  startingReadyInSeconds: 0,
};

describe('steady state', () => {
  it("needs arrival rate / per-replica throughput replicas (Little's law)", () => {
    expect(steadyStateReplicas(50, 5)).toBe(10);
    expect(steadyStateReplicas(0, 5)).toBe(0);
  });

  it('lets the queue buffer part of the rate only when pods start well within the target', () => {
    expect(steadyFloorFraction(28, 2)).toBeCloseTo(1 - (1 - QUEUE_BUFFER_FLOOR) * (26 / 28), 9);
    expect(steadyFloorFraction(18, 62)).toBe(1);
  });

  it('plans one poll inside the target, and never below half of it', () => {
    expect(effectiveTargetSeconds(30, 2)).toBe(28);
    expect(effectiveTargetSeconds(4, 5)).toBe(2);
  });
});

describe('waitingOlderThan', () => {
  it('assumes the waiting jobs arrived evenly since the oldest one', () => {
    expect(waitingOlderThan(100, 20, 10)).toBe(50);
    expect(waitingOlderThan(100, 20, 25)).toBe(0);
    expect(waitingOlderThan(100, 20, 0)).toBe(100);
  });
});

describe('sizeReplicas', () => {
  it('is idle with no work', () => {
    expect(sizeReplicas(base)).toMatchObject({ replicas: 0, binding: 'idle' });
  });

  it('sizes a steady load from the arrival rate and the measured throughput', () => {
    const sizing = sizeReplicas({ ...base, arrivalRate: 50, sustainedArrivalRate: 50, readyReplicas: 10, busy: 100 });
    expect(sizing.perReplicaJobsPerSecond).toBe(5);
    expect(sizing.replicas).toBeGreaterThanOrEqual(9);
    expect(sizing.replicas).toBeLessThanOrEqual(10);
  });

  it('adds replicas for a backlog that would otherwise miss the target', () => {
    const calm = sizeReplicas({ ...base, arrivalRate: 20, sustainedArrivalRate: 20, busy: 40 });
    const late = sizeReplicas({
      ...base,
      arrivalRate: 20,
      sustainedArrivalRate: 20,
      busy: 40,
      waiting: 900,
      oldestAgeSeconds: 20,
    });
    expect(calm.replicas).toBe(4);
    // 342 jobs are due before new pods can start (10 s); each new pod takes 10 at once.
    expect(late.replicas).toBe(19);
    expect(late.binding).toBe('latency');
  });

  it('counts replicas still starting as capacity to come', () => {
    const backlog = {
      ...base,
      arrivalRate: 20,
      sustainedArrivalRate: 20,
      busy: 40,
      waiting: 900,
      oldestAgeSeconds: 20,
    };
    const withoutStarting = sizeReplicas(backlog);
    const withStarting = sizeReplicas({ ...backlog, startingReplicas: 10, startingReadyInSeconds: 1 });
    expect(withStarting.replicas).toBeLessThan(withoutStarting.replicas);
    // All 900 must start within the planning target (22.4 s) at 5 jobs/s per replica.
    expect(withStarting.replicas).toBe(8);
  });

  it('scales ahead by the start-up delay: slower pods need more of them for the same backlog', () => {
    const backlog = {
      ...base,
      arrivalRate: 20,
      sustainedArrivalRate: 20,
      busy: 40,
      waiting: 800,
      oldestAgeSeconds: 18,
    };
    expect(sizeReplicas({ ...backlog, startupSeconds: 15 }).replicas).toBeGreaterThan(
      sizeReplicas({ ...backlog, startupSeconds: 2 }).replicas,
    );
  });

  it('estimates the oldest age from depth and rate when the format cannot read it', () => {
    const sizing = sizeReplicas({
      ...base,
      arrivalRate: 20,
      sustainedArrivalRate: 20,
      busy: 40,
      waiting: 600,
      oldestAgeSeconds: undefined,
    });
    expect(sizing.replicas).toBeGreaterThan(4);
  });
});

describe('sizeReplicas hysteresis', () => {
  it('keeps 10 % headroom over the need for a scale-down', () => {
    const sizing = sizeReplicas({ ...base, arrivalRate: 45, sustainedArrivalRate: 45, readyReplicas: 10, busy: 90 });
    expect(sizing.keepReplicas).toBeGreaterThan(sizing.replicas);
    expect(sizing.keepReplicas).toBeLessThanOrEqual(Math.ceil(sizing.replicas * 1.1) + 1);
  });

  it('time-shares a fraction of a replica in a small pool of short jobs, and rounds up for long ones', () => {
    // 7 jobs/s of 1 s jobs on 5-slot replicas: 1.4 replicas.
    const small = {
      ...base,
      concurrencyPerReplica: 5,
      serviceTimeSeconds: 1,
      arrivalRate: 7,
      sustainedArrivalRate: 7,
      readyReplicas: 2,
      busy: 7,
    };
    expect(sizeReplicas(small).replicas).toBe(1);
    // The same load in 10 s jobs (0.7 jobs/s): a slot turns over only 3 times within the target.
    expect(
      sizeReplicas({ ...small, serviceTimeSeconds: 10, arrivalRate: 0.7, sustainedArrivalRate: 0.7 }).replicas,
    ).toBe(2);
  });

  it('time-shares a pool that needs just over one replica of 2 s jobs within a 30 s target', () => {
    // 5.4 jobs/s of 2.01 s jobs (a measured mean) on 10-slot replicas: a slot turns over about 15
    // times within the target, the ramp trace's bottom. Rounding up flipped the pool between 1
    // and 2 with every wobble of the rate.
    const justOverOne = {
      ...base,
      serviceTimeSeconds: 2.01,
      arrivalRate: 5.4,
      sustainedArrivalRate: 5.4,
      readyReplicas: 1,
      busy: 10,
    };
    expect(sizeReplicas(justOverOne).replicas).toBe(1);
  });
});

describe('starting replicas', () => {
  // A backlog of 300 jobs 20 s old with 1 ready replica; 4 more were asked for: 3 of them 8 s ago
  // (ready in 2 s) and 1 just now (ready in 10 s).
  const backlog: SizingInput = {
    ...base,
    waiting: 300,
    oldestAgeSeconds: 20,
    arrivalRate: 10,
    sustainedArrivalRate: 10,
    busy: 10,
    readyReplicas: 1,
    startingReplicas: 4,
    startingReadyInSeconds: 10,
  };

  it('counts each starting replica from when it was asked for, so the earlier ones need no new pods', () => {
    const allAsLate = sizeReplicas(backlog);
    const byBatch = sizeReplicas({
      ...backlog,
      startingBatches: [
        { replicas: 1, readyInSeconds: 10 },
        { replicas: 3, readyInSeconds: 2 },
      ],
    });
    const existing = backlog.readyReplicas + backlog.startingReplicas;
    expect(allAsLate.replicas).toBeGreaterThan(existing);
    expect(byBatch.replicas).toBeLessThanOrEqual(existing);
  });

  it('without batches, takes every starting replica to be as late as the latest scale-up', () => {
    const same = sizeReplicas({ ...backlog, startingBatches: [{ replicas: 4, readyInSeconds: 10 }] });
    expect(same).toEqual(sizeReplicas(backlog));
  });
});
