import { describe, expect, it } from 'vitest';
import type { PolicyObservation, SimulatorView } from '../simulation.ts';
import { judoscalePolicy, type JudoscaleOptions } from './judoscale-policy.ts';

const options: JudoscaleOptions = {
  name: 'judo',
  upperLatencySeconds: 15,
  lowerLatencySeconds: 3,
  upscaleJump: 1,
  upscaleFrequencySeconds: 30,
  downscaleDelaySeconds: 60,
  minReplicas: 1,
  maxReplicas: 10,
};

function observe(seconds: number, latency: number, currentReplicas: number): PolicyObservation {
  return {
    nowMs: seconds * 1000,
    reading: {
      observedAtMs: seconds * 1000,
      depth: latency > 0 ? 10 : 0,
      oldestJobAgeSeconds: latency,
      dueScheduled: 0,
    },
    currentReplicas,
    readyReplicas: currentReplicas,
    arrivedTotal: 0,
    view: {} as SimulatorView,
  };
}

describe('judoscalePolicy', () => {
  it('adds one replica above the range, then waits out the upscale frequency', () => {
    const policy = judoscalePolicy(options);
    expect(policy.decide(observe(0, 20, 2)).replicas).toBe(3);
    expect(policy.decide(observe(10, 25, 3)).replicas).toBe(3);
    expect(policy.decide(observe(30, 25, 3)).replicas).toBe(4);
  });

  it('holds inside the range', () => {
    expect(judoscalePolicy(options).decide(observe(0, 8, 5)).replicas).toBe(5);
  });

  it('removes one replica after the latency stayed below the range for the downscale delay, then once per delay', () => {
    const policy = judoscalePolicy(options);
    expect(policy.decide(observe(0, 0, 5)).replicas).toBe(5);
    expect(policy.decide(observe(50, 0, 5)).replicas).toBe(5);
    expect(policy.decide(observe(60, 0, 5)).replicas).toBe(4);
    expect(policy.decide(observe(70, 0, 4)).replicas).toBe(4);
    expect(policy.decide(observe(120, 0, 4)).replicas).toBe(3);
  });

  it('restarts the downscale delay when latency rises into the range', () => {
    const policy = judoscalePolicy(options);
    policy.decide(observe(0, 0, 5));
    policy.decide(observe(40, 5, 5));
    expect(policy.decide(observe(70, 0, 5)).replicas).toBe(5);
    expect(policy.decide(observe(130, 0, 5)).replicas).toBe(4);
  });

  it('never goes below its minimum (Judoscale does not scale to zero)', () => {
    expect(judoscalePolicy(options).decide(observe(0, 0, 0)).replicas).toBe(1);
  });
});
