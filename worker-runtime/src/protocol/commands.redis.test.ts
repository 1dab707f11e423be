import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { redisFixture } from '../test-support/redis-fixture.ts';
import { ackAndReserve, addJobs, maintainQueue, publishHeartbeat } from './commands.ts';
import { queueKeys } from './keys.ts';
import { redisTimeMs } from './redis-time.ts';

// The protocol's scripts on a real Redis, one rule at a time: every time they act on is Redis's TIME.
describe('the protocol scripts keep time by Redis', () => {
  const fx = redisFixture(inject('redisUrl'), 'commands');
  afterAll(() => fx.cleanup());
  const job = (id: string) => ({ id, record: JSON.stringify({ name: 'n', data: null }), delayMs: 0 });

  it('ends a reservation at Redis TIME plus the visibility timeout', async () => {
    const keys = queueKeys(fx.prefix, 'deadline');
    await addJobs(fx.redis, keys, [job('a')]);
    const before = await redisTimeMs(fx.redis);
    const { reserved } = await ackAndReserve(fx.redis, keys, { visibilityTimeoutMs: 30_000, count: 1, acks: [] });
    const after = await redisTimeMs(fx.redis);
    const deadline = Number(await fx.redis.zscore(keys.active, reserved[0]?.entry ?? ''));
    expect(deadline).toBeGreaterThanOrEqual(before + 30_000);
    expect(deadline).toBeLessThanOrEqual(after + 30_000);
  });

  it('reclaims nothing for one visibility timeout after a gap in maintenance, then only what nobody extended', async () => {
    const keys = queueKeys(fx.prefix, 'gap');
    await addJobs(fx.redis, keys, [job('live'), job('dead')]);
    const { reserved } = await ackAndReserve(fx.redis, keys, { visibilityTimeoutMs: 50, count: 2, acks: [] });
    const entries = new Map(reserved.map((r) => [r.entry.slice(r.entry.indexOf(':') + 1), r.entry]));
    const maintain = () =>
      maintainQueue(fx.redis, keys, { maxStalls: 3, limit: 100, visibilityTimeoutMs: 400, gapMs: 1_000 });
    // The last maintenance ran 10 s ago by Redis's clock, as after Redis was paused that long.
    await fx.redis.hset(keys.counters, 'maintained-at', (await redisTimeMs(fx.redis)) - 10_000);
    await sleep(100); // both reservations are past their deadline now

    const first = await maintain();
    expect(first).toMatchObject({ reclaimed: 0, buried: 0 });
    expect(first.graceUntil).toBeGreaterThan(0);
    // Within the grace the live worker's heartbeat extends what it holds.
    await publishHeartbeat(fx.redis, keys, {
      workerId: 'w',
      ttlMs: 1_000,
      heartbeat: '{}',
      visibilityTimeoutMs: 5_000,
      entries: [entries.get('live') ?? ''],
    });
    await sleep(450);

    const after = await maintain();
    expect(after).toMatchObject({ reclaimed: 1, buried: 0, graceUntil: 0 });
    expect(await fx.redis.zrange(keys.active, '0', '-1')).toEqual([entries.get('live')]);
    expect(await fx.redis.lrange(keys.wait, 0, -1)).toEqual([entries.get('dead')]);
    expect(await fx.redis.hgetall(keys.stalls)).toEqual({ dead: '1' });
  });
});
