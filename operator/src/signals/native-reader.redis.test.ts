import { Redis } from 'ioredis';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import {
  ackAndReserve,
  addJobs,
  publishHeartbeat,
  encodeHeartbeat,
  drainRequestKey,
  queueKeys,
  redisTimeMs,
} from '@workerpool/worker-runtime/protocol';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { SignalPoller } from './signal-poller.ts';
import { queueSpec } from './testing/test-pools.ts';

// Jobs, reservations and heartbeats are written with the worker-runtime's own protocol calls, so
// this reader is tested against exactly what the runtime writes.
describe('the native reader, on queues written by the worker-runtime protocol', () => {
  const url = inject('redisUrl');
  const prefix = uniqueKeyPrefix('native');
  const redis = new Redis(url);
  const poller = new SignalPoller();

  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  afterAll(async () => {
    await poller.close();
    redis.disconnect();
  });

  async function heartbeat(
    queue: string,
    workerId: string,
    pod: string,
    busy: number,
    draining = false,
    /** Written as a runtime from before remote drain writes it: with no remoteDrain field. */
    olderRuntime = false,
  ) {
    const now = await redisTimeMs(redis);
    const beat = encodeHeartbeat({
      workerId,
      pod,
      pid: 1,
      busy,
      concurrency: 4,
      draining,
      beatAt: now,
      startedAt: now - 60_000,
      ...(olderRuntime ? {} : { remoteDrain: true }),
    });
    await publishHeartbeat(redis, queueKeys(prefix, queue), {
      workerId,
      ttlMs: 15_000,
      heartbeat: beat,
      visibilityTimeoutMs: 30_000,
      reservations: [],
    });
  }

  it('reads depth, latency, due delayed work, in-flight jobs, completions and per-pod workers over two queues', async () => {
    const now = await redisTimeMs(redis);
    const mailers = queueKeys(prefix, 'mailers');
    const digests = queueKeys(prefix, 'digests');
    const job = (id: string, delayMs = 0) => ({
      id,
      record: JSON.stringify({ name: 'send', data: { id } }),
      delayMs,
    });
    // Added as an import would, at times in the past (Redis's clock decides everything else).
    await addJobs(redis, mailers, [job('m1'), job('m2')], now - 40_000);
    await addJobs(redis, mailers, [job('m3'), job('m4')], now - 5_000);
    // Added 10 s ago with delays: d1 came due 1 s ago, d2 is due in an hour.
    await addJobs(redis, digests, [job('d1', 9_000), job('d2', 3_610_000)], now - 10_000);
    // A worker takes m1 and m2 (in flight), finishes m1 and takes m3 in the same call.
    const first = await ackAndReserve(redis, mailers, {
      visibilityTimeoutMs: 30_000,
      count: 2,
      token: 't1',
      acks: [],
    });
    await ackAndReserve(redis, mailers, {
      visibilityTimeoutMs: 30_000,
      count: 1,
      token: 't2',
      acks: [first.reserved[0]?.reservation ?? ''],
    });
    await heartbeat('mailers', 'pod-a:1:x', 'pod-a', 2);
    await heartbeat('digests', 'pod-a:1:x', 'pod-a', 2);
    await heartbeat('mailers', 'pod-b:1:y', 'pod-b', 0, true);
    // A worker on a runtime from before remote drain: its heartbeat says nothing of it.
    await heartbeat('digests', 'pod-c:1:z', 'pod-c', 1, false, true);

    poller.register('pool', {
      queue: queueSpec(url, { format: 'native', names: ['mailers', 'digests'], keyPrefix: prefix }),
    });
    const result = (await poller.readAll()).get('pool');
    await poller.unregister('pool');
    expect(result?.ok).toBe(true);
    if (!result?.ok) return;
    const r = result.reading;
    expect(r).toMatchObject({ depth: 1, dueScheduled: 1, busy: 2, completedTotal: 1, concurrency: 12 });
    // m4 waits since 5 s ago, but the due delayed d1 since 1 s: the oldest runnable job is m4.
    expect(r.oldestJobAgeSeconds).toBeGreaterThanOrEqual(5);
    expect(r.oldestJobAgeSeconds).toBeLessThan(6);
    expect(r.workers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pod: 'pod-a', busy: 2, concurrency: 4, draining: false }),
        expect.objectContaining({ pod: 'pod-b', busy: 0, concurrency: 4, draining: true }),
        expect.objectContaining({ pod: 'pod-c', busy: 1, concurrency: 4, draining: false }),
      ]),
    );
    expect(r.workers).toHaveLength(3);
    // Where the operator asks pod-b's worker to drain (PROTOCOL.md, "Remote drain"); pod-c's
    // older worker would not read a request, so it has no key to send one to.
    expect(r.workers?.find((w) => w.pod === 'pod-b')?.quietKey).toBe(drainRequestKey(mailers, 'pod-b:1:y'));
    expect(r.workers?.find((w) => w.pod === 'pod-c')).not.toHaveProperty('quietKey');
    // Each queue on its own, from the same script replies: mailers holds m4; digests only d1,
    // which the protocol ages from when it came due (1 s ago), as work waiting.
    expect(r.queues?.map((q) => [q.name, q.depth])).toEqual([
      ['mailers', 1],
      ['digests', 0],
    ]);
    expect(r.queues?.[0]?.oldestJobAgeSeconds).toBe(r.oldestJobAgeSeconds);
    expect(r.queues?.[1]?.oldestJobAgeSeconds).toBeGreaterThanOrEqual(1);
    expect(r.queues?.[1]?.oldestJobAgeSeconds).toBeLessThan(2);
  });

  it("counts delayed jobs coming due over the pool's queues, in the same script call", async () => {
    const job = (id: string, delayMs: number) => ({
      id,
      record: JSON.stringify({ name: 'send', data: { id } }),
      delayMs,
    });
    // Queue.add with a delay: jobs due in 12 s, 40 s (two queues) and in an hour, by Redis's clock.
    await addJobs(redis, queueKeys(prefix, 'soon'), [job('s1', 12_000), job('s2', 40_000)]);
    await addJobs(redis, queueKeys(prefix, 'later'), [job('l1', 40_500), job('l2', 3_600_000)]);
    poller.register('pool', {
      queue: queueSpec(url, { format: 'native', names: ['soon', 'later'], keyPrefix: prefix }),
    });
    const result = (await poller.readAll()).get('pool');
    await poller.unregister('pool');
    if (!result?.ok) throw new Error('the read failed');
    const upcoming = result.reading.upcoming;
    const at = (horizon: number) => upcoming?.horizonsSeconds.indexOf(horizon) ?? -1;
    expect(result.reading.dueScheduled).toBe(0);
    expect(upcoming?.dueWithin[at(10)]).toBe(0);
    expect(upcoming?.dueWithin[at(15)]).toBe(1);
    expect(upcoming?.dueWithin[at(45)]).toBe(3);
    expect(upcoming?.dueWithin[at(300)]).toBe(3);
    expect(upcoming?.earliestDueInSeconds?.[at(15)]).toBeGreaterThan(11);
    expect(upcoming?.earliestDueInSeconds?.[at(15)]).toBeLessThanOrEqual(12);
    expect(upcoming?.earliestDueInSeconds?.[at(45)]).toBeGreaterThan(39);
    expect(upcoming?.earliestDueInSeconds?.[at(45)]).toBeLessThanOrEqual(40);
  });

  it('refuses a queue name the protocol cannot hash-tag, at registration', () => {
    expect(() =>
      poller.register('bad', { queue: queueSpec(url, { format: 'native', names: ['has{brace}'] }) }),
    ).toThrow(/brace/);
  });
});
