import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { redisFixture } from '../test-support/redis-fixture.ts';
import { ackAndReserve, addJobs, maintainQueue, publishHeartbeat, recordFailure, releaseJobs } from './commands.ts';
import { entryJobId } from './entry.ts';
import { queueKeys, type QueueKeys } from './keys.ts';
import { redisTimeMs } from './redis-time.ts';

// The protocol's scripts on a real Redis, one rule at a time.
describe('the protocol scripts: Redis keeps the time, a token owns each reservation', () => {
  const fx = redisFixture(inject('redisUrl'), 'commands');
  afterAll(() => fx.cleanup());
  const job = (id: string) => ({ id, record: JSON.stringify({ name: 'n', data: null }), delayMs: 0 });
  const maintain = (keys: QueueKeys, call: Partial<Parameters<typeof maintainQueue>[2]>) =>
    maintainQueue(fx.redis, keys, {
      maxStalls: 3,
      limit: 100,
      visibilityTimeoutMs: 30_000,
      gapMs: 60_000,
      deadLetterMaxAgeMs: 3_600_000,
      deadLetterMaxCount: 100,
      ...call,
    });

  it('ends a reservation at Redis TIME plus the visibility timeout', async () => {
    const keys = queueKeys(fx.prefix, 'deadline');
    await addJobs(fx.redis, keys, [job('a')]);
    const before = await redisTimeMs(fx.redis);
    const { reserved } = await ackAndReserve(fx.redis, keys, {
      visibilityTimeoutMs: 30_000,
      count: 1,
      token: 't',
      acks: [],
    });
    const after = await redisTimeMs(fx.redis);
    const deadline = Number(await fx.redis.zscore(keys.active, reserved[0]?.reservation ?? ''));
    expect(deadline).toBeGreaterThanOrEqual(before + 30_000);
    expect(deadline).toBeLessThanOrEqual(after + 30_000);
  });

  it('reclaims nothing for one visibility timeout after a gap in maintenance, then only what nobody extended', async () => {
    const keys = queueKeys(fx.prefix, 'gap');
    await addJobs(fx.redis, keys, [job('live'), job('dead')]);
    const { reserved } = await ackAndReserve(fx.redis, keys, {
      visibilityTimeoutMs: 50,
      count: 2,
      token: 't',
      acks: [],
    });
    const held = new Map(reserved.map((r) => [entryJobId(r.entry), r]));
    // The last maintenance ran 10 s ago by Redis's clock, as after Redis was paused that long.
    await fx.redis.hset(keys.counters, 'maintained-at', (await redisTimeMs(fx.redis)) - 10_000);
    await sleep(100); // both reservations are past their deadline now

    const first = await maintain(keys, { visibilityTimeoutMs: 400, gapMs: 1_000 });
    expect(first).toMatchObject({ reclaimed: 0, buried: 0 });
    expect(first.graceUntil).toBeGreaterThan(0);
    // Within the grace the live worker's heartbeat extends what it holds.
    await publishHeartbeat(fx.redis, keys, {
      workerId: 'w',
      ttlMs: 1_000,
      heartbeat: '{}',
      visibilityTimeoutMs: 5_000,
      reservations: [held.get('live')?.reservation ?? ''],
    });
    await sleep(450);

    const after = await maintain(keys, { visibilityTimeoutMs: 400, gapMs: 1_000 });
    expect(after).toMatchObject({ reclaimed: 1, buried: 0, graceUntil: 0 });
    expect(await fx.redis.zrange(keys.active, '0', '-1')).toEqual([held.get('live')?.reservation]);
    // Back without its token, as the plain wait entry it was: ready time kept.
    expect(await fx.redis.lrange(keys.wait, 0, -1)).toEqual([held.get('dead')?.entry]);
    expect(await fx.redis.hgetall(keys.stalls)).toEqual({ dead: '1' });
  });

  it('lets only the current reservation token ack, fail, release or extend a job', async () => {
    const keys = queueKeys(fx.prefix, 'tokens');
    await addJobs(fx.redis, keys, [job('j')]);
    const reserve = (token: string, visibilityTimeoutMs: number) =>
      ackAndReserve(fx.redis, keys, { visibilityTimeoutMs, count: 1, token, acks: [] });
    const [stale] = (await reserve('a', 50)).reserved;
    await sleep(100);
    expect(await maintain(keys, {})).toMatchObject({ reclaimed: 1 });
    const [current] = (await reserve('b', 30_000)).reserved;
    expect(current?.entry).toBe(stale?.entry); // the same job, now under another token
    const deadline = await fx.redis.zscore(keys.active, current?.reservation ?? '');

    // The worker that stalled comes back and acts on what it thinks it still holds.
    const old = stale?.reservation ?? '';
    const ack = await ackAndReserve(fx.redis, keys, {
      visibilityTimeoutMs: 30_000,
      count: 0,
      token: 'a2',
      acks: [old],
    });
    const failed = await recordFailure(fx.redis, keys, {
      reservation: old,
      jobId: 'j',
      record: '{}',
      outcome: { kind: 'retry', delayMs: 0 },
    });
    const released = await releaseJobs(fx.redis, keys, [old]);
    const { lost } = await publishHeartbeat(fx.redis, keys, {
      workerId: 'stale',
      ttlMs: 1_000,
      heartbeat: '{}',
      visibilityTimeoutMs: 60_000,
      reservations: [old],
    });
    expect({ completed: ack.completed, failed, released, lost }).toEqual({
      completed: 0,
      failed: false,
      released: 0,
      lost: [old],
    });
    // Nothing the stale worker did touched the current reservation or the job.
    expect(await fx.redis.zrange(keys.active, '0', '-1', 'WITHSCORES')).toEqual([current?.reservation, deadline]);
    expect(await fx.redis.llen(keys.wait)).toBe(0);
    expect(await fx.redis.hexists(keys.jobs, 'j')).toBe(1);
    const done = await ackAndReserve(fx.redis, keys, {
      visibilityTimeoutMs: 30_000,
      count: 0,
      token: 'b2',
      acks: [current?.reservation ?? ''],
    });
    expect(done.completed).toBe(1);
  });

  it('keeps dead letters for their retention only, the oldest deleted first, records with them', async () => {
    const keys = queueKeys(fx.prefix, 'retention');
    const ids = ['d1', 'd2', 'd3'];
    for (const id of ids) {
      await addJobs(fx.redis, keys, [job(id)]);
      const [held] = (
        await ackAndReserve(fx.redis, keys, { visibilityTimeoutMs: 30_000, count: 1, token: id, acks: [] })
      ).reserved;
      const info = { reason: 'unrecoverable', attempts: 1, lastError: 'no' } as const;
      await recordFailure(fx.redis, keys, {
        reservation: held?.reservation ?? '',
        jobId: id,
        record: held?.record ?? '',
        outcome: { kind: 'dead', info },
      });
      await sleep(5); // distinct dead-at times: the order is the order they died
    }

    expect(await maintain(keys, { deadLetterMaxCount: 1 })).toMatchObject({ discarded: 2 });
    expect(await fx.redis.zrange(keys.dead, '0', '-1')).toEqual(['d3']);
    expect(await fx.redis.hkeys(keys.jobs)).toEqual(['d3']);
    expect(await fx.redis.hkeys(keys.deadInfo)).toEqual(['d3']);
    await sleep(20);
    expect(await maintain(keys, { deadLetterMaxAgeMs: 10 })).toMatchObject({ discarded: 1 });
    expect(await fx.redis.zcard(keys.dead)).toBe(0);
    expect(await fx.redis.hlen(keys.jobs)).toBe(0);
    expect(await fx.redis.hget(keys.counters, 'discarded')).toBe('3');
  });

  it('reclaims a reservation without a token, as a worker from before tokens wrote it, as its entry', async () => {
    const keys = queueKeys(fx.prefix, 'legacy');
    await addJobs(fx.redis, keys, [job('invoice:7')]); // an id with a colon: only the first colon separates
    const entry = await fx.redis.rpop(keys.wait);
    await fx.redis.zadd(keys.active, (await redisTimeMs(fx.redis)) - 1, entry ?? '');
    expect(await maintain(keys, {})).toMatchObject({ reclaimed: 1, missing: 0 });
    expect(await fx.redis.lrange(keys.wait, 0, -1)).toEqual([entry]);
  });
});
