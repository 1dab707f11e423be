import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { templatePool } from '../testing/fixtures.ts';
import { ConditionType, Reason } from './conditions.ts';
import { buildStatus, statusChanged, type ObservedWorld } from './status.ts';

const T0 = new Date('2026-12-01T10:00:00Z');
const T1 = new Date('2026-12-01T10:05:00Z');

function rolledOut(replicas: number, generation = 1): V1Deployment {
  return {
    metadata: { name: 'mailers', generation },
    spec: { replicas, selector: {}, template: {} },
    status: {
      observedGeneration: generation,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
    },
  };
}

const signalsRead = {
  type: ConditionType.SignalsAvailable,
  status: 'True',
  reason: Reason.SignalsRead,
  message: 'read native queue mailers',
} as const;
const world = (
  deployment: V1Deployment | undefined,
  desiredReplicas: number,
  extra: Partial<ObservedWorld> = {},
): ObservedWorld => ({
  deployment,
  desiredReplicas,
  selector: 'workerpool.dev/pool=mailers',
  conditions: [signalsRead],
  ...extra,
});

describe('buildStatus', () => {
  const pool = templatePool('billing', 'mailers');
  pool.metadata.generation = 4;

  it('is Ready for the generation it saw once the Deployment has rolled out to the decision', () => {
    const status = buildStatus(pool, world(rolledOut(3), 3), T0);
    expect(status).toMatchObject({
      observedGeneration: 4,
      replicas: 3,
      readyReplicas: 3,
      desiredReplicas: 3,
      selector: 'workerpool.dev/pool=mailers',
      deploymentName: 'mailers',
    });
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason, c.observedGeneration])).toEqual([
      ['Ready', 'True', 'Available', 4],
      ['SignalsAvailable', 'True', 'SignalsRead', 4],
    ]);
  });

  it('says Reconciling while the Deployment has not reached the decided replicas (kstatus InProgress)', () => {
    const status = buildStatus(pool, world(rolledOut(3), 5), T0);
    expect(status.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({
      status: 'True',
      reason: 'Scaling',
      message: 'scaling to 5 replicas: 3 available',
    });
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  it('stalls on a blocker, so that Flux and Argo CD report the pool as failed', () => {
    const status = buildStatus(
      pool,
      world(undefined, 0, {
        blocker: { reason: Reason.ScaleTargetNotFound, message: 'Deployment billing/x does not exist' },
      }),
      T0,
    );
    expect(status.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'ScaleTargetNotFound',
    });
  });

  it('keeps lastTransitionTime while a condition keeps its status, and moves it when the status flips', () => {
    const first = buildStatus(pool, world(rolledOut(3), 3), T0);
    const again = buildStatus({ ...pool, status: first }, world(rolledOut(3), 3), T1);
    expect(again.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('2026-12-01T10:00:00Z');
    const flipped = buildStatus({ ...pool, status: first }, world(rolledOut(3), 6), T1);
    expect(flipped.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('2026-12-01T10:05:00Z');
  });

  it('carries the last scale over from the previous status when nothing scaled in this pass', () => {
    const scaled = buildStatus(
      pool,
      world(rolledOut(3), 3, {
        lastScale: { time: '2026-12-01T09:59:00Z', reason: 'oldest job 45s > target 30s: 1 -> 3' },
      }),
      T0,
    );
    const later = buildStatus({ ...pool, status: scaled }, world(rolledOut(3), 3), T1);
    expect(later).toMatchObject({
      lastScaleTime: '2026-12-01T09:59:00Z',
      lastScaleReason: 'oldest job 45s > target 30s: 1 -> 3',
    });
  });
});

describe('buildStatus: the learned arrival pattern (status.forecast)', () => {
  const pool = templatePool('billing', 'mailers');
  const forecast = {
    learningSince: '2026-11-30T00:00:00Z',
    savedAt: '2026-12-01T09:45:00Z',
    day: new Array<number>(288).fill(2.5),
    hour: new Array<number>(60).fill(1),
    error: [0.4, 3],
  };

  it('writes the copy the decision brings, and carries it over when a pass brings none, for the next operator', () => {
    const written = buildStatus(pool, world(rolledOut(3), 3, { forecast }), T0);
    expect(written.forecast).toEqual(forecast);
    const later = buildStatus({ ...pool, status: written }, world(rolledOut(3), 3), T1);
    expect(later.forecast).toEqual(forecast);
    expect(buildStatus(pool, world(rolledOut(3), 3), T0).forecast).toBeUndefined();
  });
});

describe('statusChanged', () => {
  const pool = templatePool('billing', 'mailers');

  it('sees no change in the same status written in another key or condition order, so nothing is written', () => {
    const status = buildStatus(pool, world(rolledOut(2), 2), T0);
    const reordered = JSON.parse(
      JSON.stringify({ ...status, conditions: [...(status.conditions ?? [])].reverse() }),
    ) as typeof status;
    expect(statusChanged(reordered, status)).toBe(false);
  });

  it('sees a new reading as a change', () => {
    const before = buildStatus(pool, world(rolledOut(2), 2, { queue: { depth: 1 } }), T0);
    const after = buildStatus(pool, world(rolledOut(2), 2, { queue: { depth: 2 } }), T0);
    expect(statusChanged(before, after)).toBe(true);
  });
});
