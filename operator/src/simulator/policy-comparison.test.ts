import { describe, expect, it } from 'vitest';
import { spikeTrace } from './arrival-trace.ts';
import { formatComparisonTable } from './comparison-table.ts';
import { enginePolicy } from './engine-policy.ts';
import { applySpecDefaults } from '../api/defaults.ts';
import { baselinePolicies, comparePolicies, type ComparedPool } from './policy-comparison.ts';

const POOL: ComparedPool = {
  minReplicas: 1,
  maxReplicas: 40,
  concurrency: 5,
  targetSeconds: 20,
  podStartupSeconds: 5,
  service: { kind: 'fixed', seconds: 1 },
};

const scaling = applySpecDefaults({
  queue: { format: 'native', names: ['q'], redis: { url: 'redis://r:6379' } },
  scaling: { minReplicas: 1, maxReplicas: 40, concurrency: 5, targetLatencySeconds: 20, podStartupSeconds: 5 },
}).scaling;

describe('baselinePolicies', () => {
  it('configures each baseline by its public rule: AWS backlog = target / service time x concurrency', () => {
    expect(baselinePolicies(POOL).map((policy) => policy.name)).toEqual([
      'KEDA redis list (listLength 5)',
      'KEDA + AWS backlog rule (listLength 100)',
      'practo WPA (100 msgs/worker)',
      'Judoscale-style step',
    ]);
  });
});

describe('comparePolicies', () => {
  const trace = spikeTrace('spike', {
    durationSeconds: 400,
    baseRate: 5,
    spikeRate: 40,
    spikeAtSeconds: 100,
    spikeSeconds: 30,
  });
  const comparison = comparePolicies({
    pool: POOL,
    trace,
    seed: 3,
    initialReplicas: 1,
    enginePolicies: [enginePolicy(scaling)],
    chartTitle: 'spike',
    chartBucketSeconds: 10,
  });

  it('replays the same jobs through the engine, every baseline and the oracle', () => {
    expect(comparison.policies.map((summary) => summary.policy)).toEqual([
      'workerpool engine',
      ...baselinePolicies(POOL).map((policy) => policy.name),
    ]);
    const jobs = comparison.jobs.arrivals.length;
    expect(jobs).toBeGreaterThan(2500);
    for (const summary of [...comparison.policies, comparison.oracle]) expect(summary.jobs).toBe(jobs);
    // The oracle meets every deadline, and no run beats the work bound.
    expect(comparison.oracle.overTargetPercent).toBe(0);
    for (const summary of [...comparison.policies, comparison.oracle])
      expect(summary.replicaSeconds).toBeGreaterThanOrEqual(comparison.workBoundReplicaSeconds);
    expect(comparison.chartSvg.match(/<polyline/g)?.length).toBe(1 + comparison.policies.length + 1);
  });

  it('prints one row per policy, the oracle at 1.00x and the work bound', () => {
    const lines = formatComparisonTable(comparison);
    expect(lines[0]).toMatch(
      /^policy +replica-s +x oracle +% > target +p99 wait s +scale events +interrupted +re-run s$/,
    );
    expect(lines).toHaveLength(1 + comparison.policies.length + 2);
    expect(lines[lines.length - 2]).toMatch(/^offline oracle +\d+ +1\.00 +0\.00 /);
    expect(lines[lines.length - 1]).toMatch(/^work bound \(service time \/ concurrency\) +\d+ +0\.\d\d$/);
  });
});
