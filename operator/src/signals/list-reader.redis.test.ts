import { Redis } from 'ioredis';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { NO_TIMESTAMP_REASON } from './list-reader.ts';
import { SignalPoller } from './signal-poller.ts';
import { queueSpec } from './testing/test-pools.ts';

describe('the list reader, on a real Redis', () => {
  const url = inject('redisUrl');
  const prefix = uniqueKeyPrefix('list');
  const redis = new Redis(url);
  const poller = new SignalPoller();
  const key = (name: string) => `${prefix}${name}`;

  beforeAll(async () => {
    await redis.del(key('a'), key('b'));
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  afterAll(async () => {
    await poller.close();
    redis.disconnect();
  });

  async function readOnce(id: string, spec: Parameters<typeof queueSpec>[1]) {
    poller.register(id, { queue: queueSpec(url, spec) });
    const result = (await poller.readAll()).get(id);
    await poller.unregister(id);
    if (!result) throw new Error(`no result for ${id}`);
    return result;
  }

  it('sums LLEN over the keys and says why latency is unknown without a timestamp field', async () => {
    await redis.lpush(key('a'), 'x', 'y', 'z');
    await redis.lpush(key('b'), 'w');
    const result = await readOnce('depth-only', { format: 'list', names: [key('a'), key('b'), key('missing')] });
    expect(result).toMatchObject({
      ok: true,
      reading: {
        depth: 4,
        dueScheduled: 0,
        oldestJobAgeSeconds: undefined,
        latencyUnavailableReason: NO_TIMESTAMP_REASON,
        queues: [
          { name: key('a'), depth: 3, oldestJobAgeSeconds: undefined },
          { name: key('b'), depth: 1, oldestJobAgeSeconds: undefined },
          { name: key('missing'), depth: 0, oldestJobAgeSeconds: undefined },
        ],
      },
    });
  });

  it('ages each list on its own when items carry a timestamp, and the pool by the oldest of them', async () => {
    // Redis's clock to the microsecond: from whole seconds, an item written "12 s ago" late in a
    // second is already almost 13 s old, which made the upper bound flaky.
    const [seconds, micros] = await redis.time();
    const now = Number(seconds) + Number(micros) / 1e6;
    await redis.lpush(key('urgent'), JSON.stringify({ at: now - 12 }), JSON.stringify({ at: now - 1 }));
    await redis.lpush(key('bulk'), JSON.stringify({ at: now - 30 }));
    const result = await readOnce('per-queue', {
      format: 'list',
      names: [key('urgent'), key('bulk'), key('empty')],
      list: { timestampField: 'at', timestampUnit: 'seconds', oldestAt: 'right' },
    });
    if (!result.ok) throw result.error;
    const [urgent, bulk, empty] = result.reading.queues ?? [];
    expect([urgent?.depth, bulk?.depth, empty?.depth]).toEqual([2, 1, 0]);
    expect(urgent?.oldestJobAgeSeconds).toBeGreaterThanOrEqual(12);
    expect(urgent?.oldestJobAgeSeconds).toBeLessThan(13);
    expect(bulk?.oldestJobAgeSeconds).toBe(result.reading.oldestJobAgeSeconds);
    expect(empty?.oldestJobAgeSeconds).toBe(0);
  });

  it('ages the oldest item (the right end) from its timestamp field, in seconds or milliseconds', async () => {
    const [seconds, micros] = await redis.time();
    const now = Number(seconds) + Number(micros) / 1e6;
    // LPUSH puts the newest on the left: the item pushed first (40 s old) is the oldest, at the right.
    await redis.lpush(key('a'), JSON.stringify({ at: now - 40 }), JSON.stringify({ at: now - 5 }));
    await redis.lpush(key('b'), JSON.stringify({ at: Math.round((now - 70) * 1000) }));
    const inSeconds = await readOnce('secs', {
      format: 'list',
      names: [key('a')],
      list: { timestampField: 'at', timestampUnit: 'seconds', oldestAt: 'right' },
    });
    const inMs = await readOnce('ms', {
      format: 'list',
      names: [key('b')],
      list: { timestampField: 'at', timestampUnit: 'milliseconds', oldestAt: 'right' },
    });
    const left = await readOnce('left', {
      format: 'list',
      names: [key('a')],
      list: { timestampField: 'at', timestampUnit: 'seconds', oldestAt: 'left' },
    });
    const age = (r: typeof inSeconds) => (r.ok ? r.reading.oldestJobAgeSeconds : undefined);
    // Ages grow while the test runs, so each is checked within a second of what was written.
    expect(age(inSeconds)).toBeGreaterThanOrEqual(40);
    expect(age(inSeconds)).toBeLessThan(41);
    expect(age(inMs)).toBeGreaterThanOrEqual(70);
    expect(age(inMs)).toBeLessThan(71);
    expect(age(left)).toBeGreaterThanOrEqual(5);
    expect(age(left)).toBeLessThan(6);
  });

  it('reads an empty or missing list as depth 0 and age 0', async () => {
    const result = await readOnce('empty', {
      format: 'list',
      names: [key('nothing')],
      list: { timestampField: 'at', timestampUnit: 'seconds', oldestAt: 'right' },
    });
    expect(result).toMatchObject({ ok: true, reading: { depth: 0, oldestJobAgeSeconds: 0 } });
  });

  it('fails with wrong-type naming the key when the key is not a list', async () => {
    await redis.set(key('str'), 'not a list');
    const result = await readOnce('wrongtype', { format: 'list', names: [key('str')] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.kind).toBe('wrong-type');
    expect(result.error.key).toBe(key('str'));
    expect(result.error.message).toContain(key('str'));
  });

  it('fails with malformed-job when the oldest item is not JSON, instead of guessing', async () => {
    await redis.lpush(key('a'), 'not json');
    const result = await readOnce('malformed', {
      format: 'list',
      names: [key('a')],
      list: { timestampField: 'at', timestampUnit: 'seconds', oldestAt: 'right' },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.kind).toBe('malformed-job');
    expect(result.error.message).toContain(key('a'));
    // A pool may name any key: what the key holds never reaches status.
    expect(result.error.message).not.toContain('not json');
  });
});
