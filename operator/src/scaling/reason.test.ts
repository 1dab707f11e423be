import { describe, expect, it } from 'vitest';
import { describeChange, describeSignals, formatNumber } from './reason.ts';

describe('reasons', () => {
  it('formats numbers for people', () => {
    expect(formatNumber(5.0000001)).toBe('5');
    expect(formatNumber(4.84)).toBe('4.8');
    expect(formatNumber(45.4)).toBe('45');
    expect(formatNumber(900)).toBe('900');
  });

  it('names the signals that drove the decision', () => {
    const text = describeSignals(
      {
        arrivalRatePerSecond: 40,
        plannedArrivalRatePerSecond: 42,
        sustainedArrivalRatePerSecond: 40,
        serviceTimeSeconds: 0.8,
        perReplicaJobsPerSecond: 12,
        depth: 900,
        oldestJobAgeSeconds: 45,
        serviceEstimate: 'queue drain',
        queuePaused: false,
      },
      30,
    );
    expect(text).toBe(
      'oldest job 45s > target 30s, backlog 900, 42 jobs/s arriving, 12 jobs/s per replica (from queue drain)',
    );
  });

  it('leaves out what is unknown, and says when the service time is only assumed', () => {
    const text = describeSignals(
      {
        arrivalRatePerSecond: 0,
        plannedArrivalRatePerSecond: 0,
        sustainedArrivalRatePerSecond: 0,
        serviceTimeSeconds: 2,
        perReplicaJobsPerSecond: 5,
        depth: 3,
        oldestJobAgeSeconds: undefined,
        serviceEstimate: 'assumed',
        queuePaused: false,
      },
      30,
    );
    expect(text).toBe('backlog 3, 0 jobs/s arriving, service time not measured yet, assumed 2s');
  });

  it("says when a paused queue's backlog is not sized for", () => {
    const text = describeSignals(
      {
        arrivalRatePerSecond: 0,
        plannedArrivalRatePerSecond: 0,
        sustainedArrivalRatePerSecond: 0,
        serviceTimeSeconds: 2,
        perReplicaJobsPerSecond: 5,
        depth: 40,
        oldestJobAgeSeconds: 90,
        serviceEstimate: 'completions',
        queuePaused: true,
      },
      30,
    );
    expect(text).toBe(
      'oldest job 90s > target 30s, backlog 40 (queue paused: not sized for), 0 jobs/s arriving, 5 jobs/s per replica (from completions)',
    );
  });

  it('describes the change', () => {
    expect(describeChange(3, 8)).toBe('3 -> 8');
    expect(describeChange(4, 4)).toBe('holding 4');
  });
});
