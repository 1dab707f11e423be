import { describe, expect, it } from 'vitest';
import type { ScaleRules } from '../api/workerpool-schema.ts';
import { limitRate, longestPeriodSeconds, rememberScaleEvent } from './rate-limits.ts';

const unlimited: ScaleRules = { stabilizationWindowSeconds: 0, selectPolicy: 'Max' };
const hpaUp: ScaleRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ],
};

describe('limitRate (HPA scaling policies)', () => {
  it('does not limit a pool without policies', () => {
    expect(
      limitRate({
        nowMs: 0,
        currentReplicas: 2,
        desiredReplicas: 50,
        events: [],
        scaleUp: unlimited,
        scaleDown: unlimited,
      }),
    ).toBe(50);
    expect(
      limitRate({
        nowMs: 0,
        currentReplicas: 50,
        desiredReplicas: 1,
        events: [],
        scaleUp: unlimited,
        scaleDown: unlimited,
      }),
    ).toBe(1);
  });

  it('with Max, takes the policy allowing the larger step: 4 pods from 2, 100 % from 10', () => {
    expect(
      limitRate({
        nowMs: 0,
        currentReplicas: 2,
        desiredReplicas: 50,
        events: [],
        scaleUp: hpaUp,
        scaleDown: unlimited,
      }),
    ).toBe(6);
    expect(
      limitRate({
        nowMs: 0,
        currentReplicas: 10,
        desiredReplicas: 50,
        events: [],
        scaleUp: hpaUp,
        scaleDown: unlimited,
      }),
    ).toBe(20);
  });

  it('with Min, takes the policy allowing the smaller step', () => {
    expect(
      limitRate({
        nowMs: 0,
        currentReplicas: 10,
        desiredReplicas: 50,
        events: [],
        scaleUp: { ...hpaUp, selectPolicy: 'Min' },
        scaleDown: unlimited,
      }),
    ).toBe(14);
  });

  it('counts the changes already made within the period', () => {
    const events = [{ atMs: 5_000, change: 4 }];
    // 6 now, 2 at the start of the period: at most 2 + 4 = 6 (Pods) or 4 (Percent) -> hold.
    expect(
      limitRate({
        nowMs: 10_000,
        currentReplicas: 6,
        desiredReplicas: 50,
        events,
        scaleUp: hpaUp,
        scaleDown: unlimited,
      }),
    ).toBe(6);
    // The period has passed: a full step again.
    expect(
      limitRate({
        nowMs: 30_000,
        currentReplicas: 6,
        desiredReplicas: 50,
        events,
        scaleUp: hpaUp,
        scaleDown: unlimited,
      }),
    ).toBe(12);
  });

  it('limits scale-down by pods or percent per period', () => {
    const down: ScaleRules = {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Percent', value: 50, periodSeconds: 60 },
        { type: 'Pods', value: 1, periodSeconds: 60 },
      ],
    };
    expect(
      limitRate({ nowMs: 0, currentReplicas: 10, desiredReplicas: 1, events: [], scaleUp: unlimited, scaleDown: down }),
    ).toBe(5);
    expect(
      limitRate({
        nowMs: 0,
        currentReplicas: 10,
        desiredReplicas: 1,
        events: [],
        scaleUp: unlimited,
        scaleDown: { ...down, selectPolicy: 'Min' },
      }),
    ).toBe(9);
  });

  it('Disabled forbids the direction', () => {
    expect(
      limitRate({
        nowMs: 0,
        currentReplicas: 10,
        desiredReplicas: 2,
        events: [],
        scaleUp: unlimited,
        scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Disabled' },
      }),
    ).toBe(10);
    expect(
      limitRate({
        nowMs: 0,
        currentReplicas: 2,
        desiredReplicas: 10,
        events: [],
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Disabled' },
        scaleDown: unlimited,
      }),
    ).toBe(2);
  });
});

describe('scale events', () => {
  it('keeps events within the longest period and skips no-ops', () => {
    const events = rememberScaleEvent(
      [
        { atMs: 0, change: 2 },
        { atMs: 50_000, change: -1 },
      ],
      70_000,
      0,
      30,
    );
    expect(events).toEqual([{ atMs: 50_000, change: -1 }]);
    expect(rememberScaleEvent(events, 71_000, 3, 30)).toHaveLength(2);
  });

  it('knows the longest period of any policy', () => {
    expect(
      longestPeriodSeconds([
        hpaUp,
        { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] },
      ]),
    ).toBe(120);
    expect(longestPeriodSeconds([unlimited])).toBe(0);
  });
});
