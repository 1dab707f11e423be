import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import { encodeHeartbeat } from './heartbeat.ts';
import { queueKeys, readQueueSignals } from './keys.ts';
import { runScriptsPipelined } from './run-script.ts';
import { parseSignalsReply, readSignalsCall } from './signals.ts';

describe('reading the signals of native queues in one round trip', () => {
  let redis: Redis;
  const prefix = uniqueKeyPrefix('signals');
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('reports depth, oldest age, in-flight, completions and live workers, leaving expired heartbeats out', async () => {
    const now = 1_000_000;
    const mailers = queueKeys(prefix, 'mailers');
    await redis.lpush(mailers.wait, `${now - 5_000}:a`, `${now - 1_000}:b`);
    await redis.zadd(mailers.delayed, now - 9_000, 'due', now + 60_000, 'later');
    await redis.zadd(mailers.active, now + 10_000, `${now - 20_000}:c`, now - 1, `${now - 30_000}:d`);
    await redis.hset(mailers.counters, 'completed', 42);
    await redis.zadd(mailers.dead, now, 'x');
    const beat = {
      pod: 'mailers-7d9-abc',
      pid: 1,
      busy: 2,
      concurrency: 10,
      draining: false,
      beatAt: now,
      startedAt: now - 1,
    };
    await redis.zadd(mailers.workers, now + 15_000, 'live', now - 1, 'gone');
    await redis.hset(
      mailers.workerInfo,
      'live',
      encodeHeartbeat({ workerId: 'live', ...beat }),
      'gone',
      encodeHeartbeat({ workerId: 'gone', ...beat }),
    );

    const [signals, empty] = await readQueueSignals(redis, [mailers, queueKeys(prefix, 'empty')], now);

    expect(signals).toMatchObject({
      queue: 'mailers',
      now,
      waiting: 2,
      delayed: 2,
      delayedDue: 1,
      active: 2,
      activeExpired: 1,
      completed: 42,
      deadLetters: 1,
      oldestAgeMs: 9_000, // the due delayed job is older than the oldest waiting one (5 s)
      malformedHeartbeats: 0,
    });
    expect(signals?.workers).toEqual([{ workerId: 'live', ...beat }]);
    expect(empty).toMatchObject({ queue: 'empty', waiting: 0, oldestAgeMs: 0, completed: 0, workers: [] });
  });

  it('uses the Redis clock when no time is given', async () => {
    const keys = queueKeys(prefix, 'clock');
    await redis.lpush(keys.wait, `${Date.now() - 2_000}:a`);
    const [signals] = await readQueueSignals(redis, [keys]);
    expect(signals?.oldestAgeMs).toBeGreaterThanOrEqual(1_900);
    expect(signals?.oldestAgeMs).toBeLessThan(10_000);
  });

  it('counts the delayed jobs coming due within each horizon asked for, with the earliest of each', async () => {
    const now = 2_000_000;
    const keys = queueKeys(prefix, 'campaign');
    await redis.zadd(keys.delayed, now - 1_000, 'due', now + 12_000, 'soon', now + 40_000, 'a', now + 41_000, 'b');
    await redis.zadd(keys.delayed, now + 3_600_000, 'next-hour');
    const [reply] = await runScriptsPipelined(redis, [readSignalsCall(keys, now, [10, 15, 45, 300])]);
    const signals = parseSignalsReply('campaign', reply);
    expect(signals.delayedDue).toBe(1);
    expect(signals.upcoming).toEqual([
      { within: 0, earliestMs: -1 },
      { within: 1, earliestMs: 12_000 },
      { within: 3, earliestMs: 40_000 },
      { within: 3, earliestMs: -1 },
    ]);
    // Without horizons the reply is as before.
    const [plain] = await readQueueSignals(redis, [keys], now);
    expect(plain?.upcoming).toEqual([]);
  });
});
