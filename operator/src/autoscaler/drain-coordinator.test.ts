import { describe, expect, it } from 'vitest';
import type { QueueReading, WorkerHeartbeat } from '../signals/index.ts';
import { PoolDrain } from './drain-coordinator.ts';

const DEADLINE_MS = 30_000;

function worker(pod: string, busy: number, draining = false): WorkerHeartbeat {
  return { pod, busy, concurrency: 3, draining, quietKey: `${pod}:1:abc-signals` };
}

function reading(workers: WorkerHeartbeat[]): QueueReading {
  return {
    observedAtMs: 0,
    depth: 0,
    oldestJobAgeSeconds: 0,
    dueScheduled: 0,
    busy: workers.reduce((sum, w) => sum + w.busy, 0),
    concurrency: workers.reduce((sum, w) => sum + w.concurrency, 0),
    workers,
  };
}

describe('drain before delete, one pool', () => {
  it('quiets the least busy pods once, keeps them until each reports busy 0, then lets exactly those go', () => {
    const drain = new PoolDrain();
    const five = reading([worker('a', 3), worker('b', 1), worker('c', 0), worker('d', 2), worker('e', 3)]);

    expect(drain.observe(five, 5, 0, DEADLINE_MS)).toEqual([]);
    const first = drain.plan(3, five, 5, 0);
    // c (idle) and b (one job) are chosen; the Deployment keeps all five while they finish.
    expect(first).toEqual({
      replicas: 5,
      quiet: [
        { pod: 'c', quietKey: 'c:1:abc-signals' },
        { pod: 'b', quietKey: 'b:1:abc-signals' },
      ],
      drained: [],
      timedOut: [],
      unasked: [],
      draining: ['c', 'b'],
      reported: ['a', 'b', 'c', 'd', 'e'],
    });
    // The engine sizes the three that serve: the chosen pods are not capacity.
    const view = drain.engineView(five, 5, 5);
    expect({ current: view.currentReplicas, ready: view.readyReplicas, busy: view.reading?.busy }).toEqual({
      current: 3,
      ready: 3,
      busy: 8,
    });
    expect(view.reading?.workers?.map((w) => w.pod)).toEqual(['a', 'd', 'e']);

    // Before a pod's heartbeat says it is quiet, busy 0 proves nothing: it may take a job still.
    const notYetQuiet = reading([worker('a', 3), worker('b', 0), worker('c', 0), worker('d', 2), worker('e', 3)]);
    drain.observe(notYetQuiet, 5, 1_000, DEADLINE_MS);
    expect(drain.plan(3, notYetQuiet, 5, 1_000)).toMatchObject({ replicas: 5, quiet: [], drained: [] });

    // c says quiet with nothing running: it may go. b is quiet but finishes its job.
    const cDone = reading([worker('a', 3), worker('b', 1, true), worker('c', 0, true), worker('d', 2), worker('e', 3)]);
    drain.observe(cDone, 5, 6_000, DEADLINE_MS);
    expect(drain.plan(3, cDone, 5, 6_000)).toEqual({
      replicas: 4,
      quiet: [],
      drained: ['c'],
      timedOut: [],
      unasked: [],
      draining: ['b'],
      reported: ['a', 'b', 'c', 'd', 'e'],
    });

    // The ReplicaSet took c (4 replicas now) and c's heartbeat is gone; b finishes.
    const bDone = reading([worker('a', 3), worker('b', 0, true), worker('d', 2), worker('e', 3)]);
    drain.observe(bDone, 4, 12_000, DEADLINE_MS);
    expect(drain.plan(3, bDone, 4, 12_000)).toMatchObject({ replicas: 3, drained: ['b'], draining: [] });
    expect(drain.engineView(bDone, 4, 4).currentReplicas).toBe(3);

    // Once the Deployment has 3, b no longer counts against it; its last heartbeat then goes.
    drain.observe(bDone, 3, 14_000, DEADLINE_MS);
    expect(drain.engineView(bDone, 3, 3).currentReplicas).toBe(3);
    const three = reading([worker('a', 3), worker('d', 2), worker('e', 3)]);
    drain.observe(three, 3, 16_000, DEADLINE_MS);
    expect(drain.tracked.size).toBe(0);
    expect(drain.plan(3, three, 3, 16_000)).toMatchObject({ replicas: 3, quiet: [] });
  });

  it('lets a pod go with jobs running once its deadline passes, and says so', () => {
    const drain = new PoolDrain();
    const two = reading([worker('a', 2), worker('b', 1)]);
    drain.plan(1, two, 2, 0);
    const stuck = reading([worker('a', 2), worker('b', 1, true)]);
    expect(drain.observe(stuck, 2, DEADLINE_MS - 1, DEADLINE_MS)).toEqual([]);
    expect(drain.observe(stuck, 2, DEADLINE_MS, DEADLINE_MS)).toEqual(['b']);
    expect(drain.plan(1, stuck, 2, DEADLINE_MS)).toMatchObject({ replicas: 1, drained: ['b'], timedOut: ['b'] });
  });

  it('adds fresh pods when load rises during a drain: quiet pods cannot come back, and they still go', () => {
    const drain = new PoolDrain();
    const four = reading([worker('a', 1), worker('b', 1), worker('c', 0), worker('d', 0)]);
    drain.plan(2, four, 4, 0);
    expect(drain.tracked.size).toBe(2);
    // The engine now wants 5 serving, with 2 serving now.
    const rising = reading([worker('a', 3), worker('b', 3), worker('c', 1, true), worker('d', 0, true)]);
    drain.observe(rising, 4, 2_000, DEADLINE_MS);
    expect(drain.engineView(rising, 4, 4).currentReplicas).toBe(2);
    // d drained, c did not: d stays while replicas only go up, so the ReplicaSet never has to choose.
    expect(drain.plan(5, rising, 4, 2_000)).toMatchObject({ replicas: 7, quiet: [], drained: ['d'], draining: ['c'] });
    // The Deployment has 7, 5 of them serving, and the engine holds at 5: d goes now, c stays.
    expect(drain.plan(5, rising, 7, 4_000)).toMatchObject({ replicas: 6, drained: ['d'], draining: ['c'] });
  });

  it('lets pods that report no worker go at once, and drains those that do', () => {
    const drain = new PoolDrain();
    // Three replicas, only a reports a worker: the two silent ones run no job we know of.
    const one = reading([worker('a', 1)]);
    expect(drain.plan(0, one, 3, 0)).toMatchObject({ replicas: 1, quiet: [{ pod: 'a', quietKey: 'a:1:abc-signals' }] });
    // Going from 3 to 2 with every pod reporting: nothing goes before the chosen pod drained.
    const fresh = new PoolDrain();
    const three = reading([worker('a', 1), worker('b', 0), worker('c', 2)]);
    expect(fresh.plan(2, three, 3, 0)).toMatchObject({ replicas: 3, draining: ['b'] });
    fresh.observe(reading([worker('a', 1), worker('b', 0, true), worker('c', 2)]), 3, 1_000, DEADLINE_MS);
    expect(fresh.plan(2, three, 3, 1_000)).toMatchObject({ replicas: 2, drained: ['b'] });
  });

  it('lets a pod whose worker cannot be asked (a runtime older than remote drain) go idle-first at once, and drains the rest', () => {
    const older = (pod: string, busy: number): WorkerHeartbeat => ({ pod, busy, concurrency: 3, draining: false });
    const drain = new PoolDrain();
    // Mid-upgrade: b still runs the older runtime. Asking it would earn no answer, and its pod
    // would hold the scale-down until the deadline; never choosing it would hold it for good.
    const four = reading([worker('a', 2), older('b', 0), worker('c', 1), worker('d', 0)]);
    expect(drain.plan(2, four, 4, 0)).toEqual({
      replicas: 3,
      // d and b run nothing; d can be asked, so it is asked. b goes now, the fewest busy as
      // idle-first would take it, and finishes anything it took meanwhile on SIGTERM.
      quiet: [{ pod: 'd', quietKey: 'd:1:abc-signals' }],
      drained: ['b'],
      timedOut: [],
      unasked: ['b'],
      draining: ['d'],
      reported: ['a', 'b', 'c', 'd'],
    });
    expect(drain.engineView(four, 4, 4).reading?.workers?.map((w) => w.pod)).toEqual(['a', 'c']);

    // A pool of older workers only scales down as idle-first did, in one step.
    const olderOnly = new PoolDrain();
    const three = reading([older('x', 1), older('y', 0), older('z', 2)]);
    expect(olderOnly.plan(1, three, 3, 0)).toMatchObject({ replicas: 1, quiet: [], unasked: ['y', 'x'] });
  });

  it('asks again after a failed request, and asks a worker that started later in a draining pod', () => {
    const drain = new PoolDrain();
    const two = reading([worker('a', 1), worker('b', 1)]);
    const [target] = drain.plan(1, two, 2, 0).quiet;
    expect(target).toBeDefined();
    if (target) drain.quietFailed(target);
    expect(drain.plan(1, two, 2, 1_000).quiet).toEqual([target]);
    // The pod's container restarted: a new worker identity in the same pod.
    const restarted = reading([worker('a', 1), { ...worker('a', 0), quietKey: 'a:2:def-signals' }, worker('b', 1)]);
    expect(drain.plan(1, restarted, 2, 2_000).quiet).toEqual([{ pod: 'a', quietKey: 'a:2:def-signals' }]);
  });

  it('keeps a paused pool at its replicas: a pod that drains meanwhile stays until the pool resumes', () => {
    const drain = new PoolDrain();
    const three = reading([worker('a', 1), worker('b', 1), worker('c', 0)]);
    drain.observe(three, 3, 0, DEADLINE_MS);
    expect(drain.plan(2, three, 3, 0)).toMatchObject({ replicas: 3, draining: ['c'] });

    // Paused while c drains. The engine holds the two that serve; c then reports quiet, busy 0.
    const cQuiet = reading([worker('a', 1), worker('b', 1), worker('c', 0, true)]);
    drain.observe(cQuiet, 3, 6_000, DEADLINE_MS);
    expect(drain.plan(2, cQuiet, 3, 6_000, { paused: true })).toMatchObject({
      replicas: 3,
      quiet: [],
      drained: ['c'],
    });
    // A pause chooses no pod either, whatever the engine says.
    expect(drain.plan(1, cQuiet, 3, 7_000, { paused: true })).toMatchObject({ replicas: 3, quiet: [] });
    // Still paused polls later: c is still held, not released, and still not serving capacity.
    drain.observe(cQuiet, 3, 8_000, DEADLINE_MS);
    expect(drain.tracked.get('c')?.stage).toBe('drained');
    expect(drain.engineView(cQuiet, 3, 3).currentReplicas).toBe(2);

    // Resumed: c goes, and only c.
    expect(drain.plan(2, cQuiet, 3, 9_000)).toMatchObject({ replicas: 2, drained: ['c'], quiet: [] });
  });
});
