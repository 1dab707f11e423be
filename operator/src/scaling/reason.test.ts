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
    const text = describeSignals({ arrivalRatePerSecond: 40, plannedArrivalRatePerSecond: 42, sustainedArrivalRatePerSecond: 40, serviceTimeSeconds: 0.8, perReplicaJobsPerSecond: 12, depth: 900, oldestJobAgeSeconds: 45 }, 30);
    expect(text).toBe('oldest job 45s > target 30s, backlog 900, 42 jobs/s arriving, 12 jobs/s per replica');
  });

  it('leaves out what is unknown', () => {
    const text = describeSignals({ arrivalRatePerSecond: 0, plannedArrivalRatePerSecond: 0, sustainedArrivalRatePerSecond: 0, serviceTimeSeconds: undefined, perReplicaJobsPerSecond: undefined, depth: 3, oldestJobAgeSeconds: undefined }, 30);
    expect(text).toBe('backlog 3, 0 jobs/s arriving');
  });

  it('describes the change', () => {
    expect(describeChange(3, 8)).toBe('3 -> 8');
    expect(describeChange(4, 4)).toBe('holding 4');
  });
});
