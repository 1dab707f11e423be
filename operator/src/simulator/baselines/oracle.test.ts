import { describe, expect, it } from 'vitest';
import { spikeTrace } from '../arrival-trace.ts';
import { generateJobs, workBoundReplicaSeconds } from '../jobs.ts';
import { summarize } from '../run-summary.ts';
import { simulate } from '../simulation.ts';
import { enginePolicy } from '../engine-policy.ts';
import { applySpecDefaults } from '../../api/defaults.ts';
import { missedDeadlines, requestedReplicas, runOracle } from './oracle.ts';

describe('requestedReplicas', () => {
  it('asks a start-up ahead for what the plan needs, and lets go at once', () => {
    expect(requestedReplicas([1, 1, 1, 4, 4, 2, 2, 2], 2)).toEqual([1, 4, 4, 4, 4, 2, 2, 2]);
  });
});

describe('runOracle', () => {
  const trace = spikeTrace('spike', {
    durationSeconds: 600,
    baseRate: 5,
    spikeRate: 60,
    spikeAtSeconds: 200,
    spikeSeconds: 40,
  });
  const jobs = generateJobs({ trace, service: { kind: 'exponential', meanSeconds: 2 }, seed: 3 });
  const base = { ...jobs, concurrency: 4, podStartupSeconds: 10, initialReplicas: 3, endSeconds: 600 };
  const options = { targetSeconds: 20, concurrency: 4, minReplicas: 1, maxReplicas: 100 };
  const oracle = runOracle(base, options, [1, 10, 30]);

  it('meets every deadline', () => {
    expect(missedDeadlines(oracle.result, 20)).toBe(0);
  });

  it('costs at least the work bound and no more than an online policy', () => {
    expect(oracle.result.replicaSeconds).toBeGreaterThanOrEqual(workBoundReplicaSeconds(jobs, 4));
    const scaling = applySpecDefaults({
      queue: { format: 'native', names: ['q'], redis: { url: 'redis://r:6379' } },
      scaling: { concurrency: 4, targetLatencySeconds: 20, podStartupSeconds: 10, maxReplicas: 100 },
    }).scaling;
    const online = simulate({ ...base, policy: enginePolicy(scaling) });
    expect(oracle.result.replicaSeconds).toBeLessThan(online.replicaSeconds);
    expect(summarize(oracle.result, 20).overTargetPercent).toBe(0);
  });
});
