import { describe, expect, it } from 'vitest';
import { spikeTrace } from './arrival-trace.ts';
import { parsePoolYaml } from './pool-file.ts';
import { simulatePool } from './simulate-pool.ts';

describe('simulatePool', () => {
  it('replays a trace for a manifest and charts it', () => {
    const spec = parsePoolYaml(`
kind: WorkerPool
spec:
  template: {spec: {containers: [{name: w}]}}
  queue: {format: native, names: [q], redis: {url: "redis://r:6379"}}
  scaling: {concurrency: 5, targetLatencySeconds: 20, podStartupSeconds: 5, maxReplicas: 40}
`);
    const trace = spikeTrace('spike', {
      durationSeconds: 300,
      baseRate: 5,
      spikeRate: 40,
      spikeAtSeconds: 100,
      spikeSeconds: 30,
    });
    const run = simulatePool({ spec, trace, service: { kind: 'fixed', seconds: 1 }, seed: 5 });
    expect(run.summary.jobs).toBeGreaterThan(2000);
    expect(run.summary.overTargetPercent).toBeLessThan(1);
    expect(run.peakReplicas).toBeGreaterThan(2);
    expect(run.summary.replicaSeconds).toBeGreaterThanOrEqual(run.workBoundReplicaSeconds);
    expect(run.chartSvg).toContain('<polyline');
  });
});
