import { describe, expect, it } from 'vitest';
import { applySpecDefaults } from '../api/defaults.ts';
import { burstyTrace, stepTrace } from './arrival-trace.ts';
import { signalProfile } from '../signals/signal-profile.ts';
import { enginePolicy } from './engine-policy.ts';
import { generateJobs, workBoundReplicaSeconds } from './jobs.ts';
import { summarize } from './run-summary.ts';
import { simulate } from './simulation.ts';

const scaling = (fields: Record<string, unknown>) =>
  applySpecDefaults({
    queue: { format: 'native', names: ['q'], redis: { url: 'redis://r:6379' } },
    scaling: { maxReplicas: 100, scaleDown: { stabilizationWindowSeconds: 10 }, ...fields },
  }).scaling;

describe('the engine in the simulator', () => {
  it('keeps jobs within the target through a step, close to the work bound', () => {
    const trace = stepTrace('step', { durationSeconds: 900, baseRate: 10, stepRate: 40, stepAtSeconds: 300 });
    const jobs = generateJobs({ trace, service: { kind: 'exponential', meanSeconds: 1 }, seed: 21 });
    const result = simulate({
      ...jobs,
      concurrency: 5,
      podStartupSeconds: 10,
      initialReplicas: 2,
      endSeconds: 900,
      policy: enginePolicy(scaling({ concurrency: 5, targetLatencySeconds: 30, podStartupSeconds: 10 })),
    });
    const summary = summarize(result, 30);
    expect(summary.overTargetPercent).toBeLessThan(1);
    expect(summary.replicaSeconds).toBeLessThan(1.2 * workBoundReplicaSeconds(jobs, 5));
  });

  it('goes to zero between batches and wakes for the next one', () => {
    const trace = burstyTrace('bursty', {
      durationSeconds: 1200,
      onRate: 20,
      offRate: 0,
      onSeconds: 60,
      offSeconds: 540,
    });
    const jobs = generateJobs({ trace, service: { kind: 'exponential', meanSeconds: 1 }, seed: 22 });
    const result = simulate({
      ...jobs,
      concurrency: 5,
      podStartupSeconds: 5,
      initialReplicas: 0,
      endSeconds: 1200,
      policy: enginePolicy(
        scaling({
          minReplicas: 0,
          concurrency: 5,
          targetLatencySeconds: 30,
          podStartupSeconds: 5,
          scaleToZeroAfterSeconds: 30,
        }),
      ),
    });
    const atZero = result.replicas.filter((point) => point.replicas === 0 && point.atSeconds > 0);
    expect(atZero.length).toBeGreaterThanOrEqual(2);
    expect(summarize(result, 30).overTargetPercent).toBeLessThan(1);
  });

  it('holds a pinned pool at its pin', () => {
    const trace = stepTrace('step', { durationSeconds: 120, baseRate: 50, stepRate: 50, stepAtSeconds: 0 });
    const jobs = generateJobs({ trace, service: { kind: 'fixed', seconds: 1 }, seed: 23 });
    const result = simulate({
      ...jobs,
      concurrency: 5,
      podStartupSeconds: 5,
      initialReplicas: 2,
      endSeconds: 120,
      policy: enginePolicy(scaling({ concurrency: 5 }), { pinnedReplicas: 3 }),
    });
    expect(result.replicas.at(-1)?.replicas).toBe(3);
    expect(result.scaleChanges).toHaveLength(1);
  });
});

describe('the engine in the simulator, per signal profile', () => {
  it('hands the engine only what the format reports: a Sidekiq pool sizes from the run time its processes record, or from the queue draining on a shared Redis', () => {
    const trace = stepTrace('step', { durationSeconds: 900, baseRate: 10, stepRate: 40, stepAtSeconds: 300 });
    const jobs = generateJobs({ trace, service: { kind: 'exponential', meanSeconds: 1 }, seed: 21 });
    const sidekiq = signalProfile('sidekiq');
    const run = (sharedRedis: boolean) =>
      simulate({
        ...jobs,
        concurrency: 5,
        podStartupSeconds: 10,
        initialReplicas: 2,
        endSeconds: 900,
        completionHeartbeatSeconds: sidekiq.completionHeartbeatSeconds,
        policy: enginePolicy(scaling({ concurrency: 5, targetLatencySeconds: 30 }), { profile: sidekiq, sharedRedis }),
      });
    const reasonsOf = (result: ReturnType<typeof simulate>) => result.scaleChanges.map((change) => change.reason ?? '');
    const own = run(false);
    expect(reasonsOf(own).some((reason) => reason.includes('(from recorded run time)'))).toBe(true);
    expect(summarize(own, 30).overTargetPercent).toBeLessThan(1);
    const shared = run(true);
    expect(reasonsOf(shared).some((reason) => reason.includes('(from queue drain)'))).toBe(true);
    expect(reasonsOf(shared).some((reason) => /\(from (completions|recorded run time)\)/.test(reason))).toBe(false);
    expect(summarize(shared, 30).overTargetPercent).toBeLessThan(1);
  });

  it('brings a list pool back down after a burst', () => {
    const trace = burstyTrace('burst', {
      durationSeconds: 1200,
      onRate: 40,
      offRate: 0,
      onSeconds: 60,
      offSeconds: 1140,
    });
    const jobs = generateJobs({ trace, service: { kind: 'exponential', meanSeconds: 2 }, seed: 24 });
    const result = simulate({
      ...jobs,
      concurrency: 5,
      podStartupSeconds: 10,
      initialReplicas: 1,
      endSeconds: 1200,
      policy: enginePolicy(scaling({ concurrency: 5, targetLatencySeconds: 30 }), { profile: signalProfile('list') }),
    });
    expect(Math.max(...result.replicas.map((point) => point.replicas))).toBeGreaterThan(5);
    expect(result.replicas.at(-1)?.replicas).toBe(1);
  });
});
