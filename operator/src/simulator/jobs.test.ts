import { describe, expect, it } from 'vitest';
import { stepTrace } from './arrival-trace.ts';
import { generateJobs, workBoundReplicaSeconds } from './jobs.ts';

describe('jobs', () => {
  const trace = stepTrace('s', { durationSeconds: 100, baseRate: 3, stepRate: 3, stepAtSeconds: 0 });

  it('draws the same jobs for the same seed, whatever the policy', () => {
    const a = generateJobs({ trace, service: { kind: 'exponential', meanSeconds: 2 }, seed: 4 });
    const b = generateJobs({ trace, service: { kind: 'exponential', meanSeconds: 2 }, seed: 4 });
    expect(b).toEqual(a);
    expect(a.services).toHaveLength(a.arrivals.length);
  });

  it('keeps the arrivals when only the service model changes', () => {
    const a = generateJobs({ trace, service: { kind: 'fixed', seconds: 1 }, seed: 4 });
    const b = generateJobs({ trace, service: { kind: 'lognormal', meanSeconds: 1, sigma: 2 }, seed: 4 });
    expect(b.arrivals).toEqual(a.arrivals);
  });

  it('bounds the cost by the total work over the concurrency', () => {
    expect(
      workBoundReplicaSeconds({ arrivals: Float64Array.from([0, 1, 2]), services: Float64Array.from([4, 6, 10]) }, 4),
    ).toBe(5);
  });
});
