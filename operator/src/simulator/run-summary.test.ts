import { describe, expect, it } from 'vitest';
import { quantile, summarize } from './run-summary.ts';
import type { SimulationResult } from './simulation.ts';

describe('run summaries', () => {
  it('takes nearest-rank quantiles', () => {
    const sorted = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(quantile(sorted, 0.5)).toBe(5);
    expect(quantile(sorted, 0.99)).toBe(10);
    expect(quantile(new Float64Array(0), 0.5)).toBe(0);
  });

  it('counts jobs that waited longer than the target', () => {
    const result: SimulationResult = {
      policy: 'p',
      waits: Float64Array.from([0, 5, 31, 29.9, 60]),
      replicaSeconds: 123,
      scaleChanges: [{ atSeconds: 1, from: 0, to: 2, reason: undefined }],
      replicas: [],
      endSeconds: 100,
      interruptedJobs: 2,
      rerunSeconds: 7.5,
    };
    expect(summarize(result, 30)).toEqual({
      policy: 'p',
      jobs: 5,
      replicaSeconds: 123,
      overTargetPercent: 40,
      p50WaitSeconds: 29.9,
      p99WaitSeconds: 60,
      maxWaitSeconds: 60,
      scaleEvents: 1,
      interruptedJobs: 2,
      rerunSeconds: 7.5,
    });
  });
});
