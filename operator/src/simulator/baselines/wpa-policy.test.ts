import { describe, expect, it } from 'vitest';
import type { QueueReading } from '../../signals/queue-reading.ts';
import type { PolicyObservation, SimulatorView } from '../simulation.ts';
import { wpaDesiredWorkers, wpaPolicy, type WpaOptions } from './wpa-policy.ts';

const options: WpaOptions = {
  name: 'wpa',
  targetMessagesPerWorker: 100,
  secondsToProcessOneJob: 0.2,
  minReplicas: 1,
  maxReplicas: 50,
};

describe('wpaDesiredWorkers (GetDesiredWorkers)', () => {
  it('sizes from the backlog', () => {
    expect(
      wpaDesiredWorkers(options, { queueMessages: 1000, messagesSentPerMinute: 0, currentWorkers: 2, idleWorkers: 0 }),
    ).toBe(10);
  });

  it('keeps the workers when the change is within the 10 % tolerance', () => {
    expect(
      wpaDesiredWorkers(options, { queueMessages: 1050, messagesSentPerMinute: 0, currentWorkers: 10, idleWorkers: 0 }),
    ).toBe(10);
  });

  it('raises the minimum from the rate: ceil(secondsToProcessOneJob x sent per minute / 60)', () => {
    // 3000 per minute = 50/s at 0.2 s per job per worker: 10 workers.
    expect(
      wpaDesiredWorkers(options, { queueMessages: 0, messagesSentPerMinute: 3000, currentWorkers: 4, idleWorkers: 0 }),
    ).toBe(10);
  });

  it('scales an idle pool to the minimum at once, ignoring maxDisruption', () => {
    expect(
      wpaDesiredWorkers(
        { ...options, maxDisruptionPercent: 10 },
        { queueMessages: 0, messagesSentPerMinute: 0, currentWorkers: 20, idleWorkers: 20 },
      ),
    ).toBe(1);
  });

  it('removes at most maxDisruption of the workers while some are busy', () => {
    expect(
      wpaDesiredWorkers(
        { ...options, maxDisruptionPercent: 25 },
        { queueMessages: 0, messagesSentPerMinute: 0, currentWorkers: 20, idleWorkers: 3 },
      ),
    ).toBe(15);
  });

  it('stays within max', () => {
    expect(
      wpaDesiredWorkers(options, {
        queueMessages: 100_000,
        messagesSentPerMinute: 0,
        currentWorkers: 2,
        idleWorkers: 0,
      }),
    ).toBe(50);
  });
});

describe('wpaPolicy', () => {
  it('measures messages sent over the last minute from the producer counter', () => {
    const policy = wpaPolicy(options);
    const observe = (seconds: number, arrivedTotal: number): PolicyObservation => ({
      nowMs: seconds * 1000,
      reading: {
        observedAtMs: seconds * 1000,
        depth: 0,
        oldestJobAgeSeconds: 0,
        dueScheduled: 0,
        busy: 5,
      } satisfies QueueReading,
      currentReplicas: 2,
      readyReplicas: 2,
      arrivedTotal,
      view: {} as SimulatorView,
    });
    policy.decide(observe(0, 0));
    policy.decide(observe(20, 1000));
    policy.decide(observe(40, 2000));
    // 3000 sent in the last 60 s: 10 workers by the rate rule.
    expect(policy.decide(observe(60, 3000)).replicas).toBe(10);
  });
});
