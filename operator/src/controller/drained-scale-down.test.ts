import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { DRAINED_POD_COST, SILENT_POD_COST, drainedScaleDown } from './drained-scale-down.ts';

function pod(name: string, state: 'ready' | 'not-ready' | 'pending' | 'terminating' = 'ready'): V1Pod {
  return {
    metadata: { name, ...(state === 'terminating' ? { deletionTimestamp: new Date() } : {}) },
    spec: { containers: [], ...(state === 'pending' ? {} : { nodeName: 'node-1' }) },
    status: {
      phase: state === 'pending' ? 'Pending' : 'Running',
      conditions: [{ type: 'Ready', status: state === 'ready' || state === 'terminating' ? 'True' : 'False' }],
    },
  };
}

// b finished draining, c still drains; all three report workers.
const drain = { drained: ['b'], timedOut: [], draining: ['c'], reported: ['a', 'b', 'c'] };

describe('a drained scale-down', () => {
  it('gives the drained pod the lowest cost and every other pod its busy count', () => {
    const busy = new Map([
      ['a', 2],
      ['c', 1],
    ]);
    expect(drainedScaleDown([pod('a'), pod('b'), pod('c')], drain, 2, busy)).toEqual({
      hold: undefined,
      costs: new Map([
        ['a', 2],
        ['b', DRAINED_POD_COST],
        ['c', 1],
      ]),
    });
  });

  it('waits while a pod that reports workers is pending or not ready: the ReplicaSet would remove it first', () => {
    const pending = { ...drain, reported: ['a', 'b', 'c', 'd'] };
    expect(drainedScaleDown([pod('a'), pod('b'), pod('c'), pod('d', 'not-ready')], pending, 3, undefined).hold).toBe(
      'pod d is not scheduled, running and ready: the ReplicaSet would remove it before a drained pod',
    );
    // A terminating pod counts in no replicas: it neither blocks nor is taken.
    expect(drainedScaleDown([pod('a'), pod('b'), pod('c'), pod('d', 'terminating')], pending, 2, undefined).hold).toBe(
      undefined,
    );
  });

  it('waits when more pods that were not drained report workers than replicas would be kept', () => {
    expect(drainedScaleDown([pod('a'), pod('b'), pod('c')], drain, 1, undefined).hold).toBe(
      '2 pods report workers and were not drained, more than the 1 replicas to keep',
    );
  });

  it('takes a pod that reports no worker after the drained ones, whatever its state', () => {
    const result = drainedScaleDown([pod('a'), pod('b'), pod('c'), pod('d', 'pending')], drain, 2, undefined);
    expect(result.hold).toBeUndefined();
    expect(result.costs.get('d')).toBe(SILENT_POD_COST);
  });
});
