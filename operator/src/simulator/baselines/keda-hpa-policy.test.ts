import { describe, expect, it } from 'vitest';
import type { QueueReading } from '../../signals/queue-reading.ts';
import type { PolicyObservation, SimulatorView } from '../simulation.ts';
import { backlogPerInstance, hpaAverageValueReplicas, kedaHpaPolicy } from './keda-hpa-policy.ts';

const view = {} as SimulatorView;
function observe(seconds: number, depth: number, currentReplicas: number): PolicyObservation {
  const reading: QueueReading = { observedAtMs: seconds * 1000, depth, oldestJobAgeSeconds: 0, dueScheduled: 0 };
  return { nowMs: seconds * 1000, reading, currentReplicas, readyReplicas: currentReplicas, arrivedTotal: 0, view };
}

describe('HPA AverageValue', () => {
  it('recommends ceil(metric / target), but keeps the replicas within the 10 % tolerance', () => {
    expect(hpaAverageValueReplicas(100, 5, 4)).toBe(20);
    expect(hpaAverageValueReplicas(21, 5, 4)).toBe(4);
    expect(hpaAverageValueReplicas(0, 5, 4)).toBe(0);
  });
});

describe('AWS backlog per instance', () => {
  it('is acceptable latency / processing time, times the jobs an instance runs at once', () => {
    expect(backlogPerInstance(30, 2, 10)).toBe(150);
    expect(backlogPerInstance(1, 60, 1)).toBe(1);
  });
});

describe('kedaHpaPolicy', () => {
  const options = { name: 'keda', listLength: 5, minReplicas: 0, maxReplicas: 100 };

  it('activates 0 -> 1 on its 30 s poll, and the HPA does nothing at zero', () => {
    const policy = kedaHpaPolicy(options);
    expect(policy.decide(observe(0, 0, 0)).replicas).toBe(0);
    expect(policy.decide(observe(15, 50, 0)).replicas).toBe(0);
    expect(policy.decide(observe(30, 50, 0)).replicas).toBe(1);
  });

  it('scales up by max(100 %, 4 pods) per 15 s', () => {
    const policy = kedaHpaPolicy({ ...options, minReplicas: 1 });
    expect(policy.decide(observe(0, 1000, 1)).replicas).toBe(5);
    expect(policy.decide(observe(15, 1000, 5)).replicas).toBe(10);
    expect(policy.decide(observe(30, 1000, 10)).replicas).toBe(20);
  });

  it('keeps the highest recommendation of the last 300 s before scaling down', () => {
    const policy = kedaHpaPolicy({ ...options, minReplicas: 1 });
    expect(policy.decide(observe(0, 50, 10)).replicas).toBe(10);
    expect(policy.decide(observe(15, 0, 10)).replicas).toBe(10);
    expect(policy.decide(observe(285, 0, 10)).replicas).toBe(10);
    expect(policy.decide(observe(300, 0, 10)).replicas).toBe(1);
  });

  it('scales to zero after the cooldown when minReplicaCount is 0', () => {
    const policy = kedaHpaPolicy(options);
    policy.decide(observe(0, 5, 1));
    expect(policy.decide(observe(270, 0, 1)).replicas).toBe(1);
    expect(policy.decide(observe(300, 0, 1)).replicas).toBe(0);
  });
});
