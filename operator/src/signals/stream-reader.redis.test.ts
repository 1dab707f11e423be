import { Redis } from 'ioredis';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { SignalPoller } from './signal-poller.ts';
import type { PoolReadResult } from './stale-reading.ts';
import { queueSpec } from './testing/test-pools.ts';

describe('the stream reader, on a real Redis 7', () => {
  const url = inject('redisUrl');
  const prefix = uniqueKeyPrefix('stream');
  const redis = new Redis(url);
  const poller = new SignalPoller();
  const key = (name: string) => `${prefix}${name}`;

  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  afterAll(async () => {
    await poller.close();
    redis.disconnect();
  });

  async function read(names: string[], group = 'workers'): Promise<PoolReadResult> {
    poller.register('pool', { queue: queueSpec(url, { format: 'stream', names, stream: { consumerGroup: group } }) });
    const result = (await poller.readAll()).get('pool');
    await poller.unregister('pool');
    if (!result) throw new Error('no result');
    return result;
  }

  async function redisNowMs(): Promise<number> {
    const [s, us] = await redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  /** Adds entries whose IDs say they were created `agesMs` ago (oldest first). */
  async function addAged(stream: string, agesMs: number[]): Promise<string[]> {
    const now = await redisNowMs();
    const ids: string[] = [];
    for (const age of agesMs) ids.push((await redis.xadd(stream, `${now - age}-0`, 'job', 'x')) ?? '');
    return ids;
  }

  it('reports lag as depth, pending as busy, and the age of the first undelivered entry', async () => {
    await addAged(key('s'), [50_000, 40_000, 30_000, 20_000]);
    await redis.xgroup('CREATE', key('s'), 'workers', '0');
    // A consumer takes the two oldest and acknowledges neither: they are pending, not waiting.
    await redis.xreadgroup('GROUP', 'workers', 'c1', 'COUNT', 2, 'STREAMS', key('s'), '>');
    const result = await read([key('s')]);
    expect(result).toMatchObject({ ok: true, reading: { depth: 2, busy: 2, dueScheduled: 0 } });
    const age = result.ok ? result.reading.oldestJobAgeSeconds : undefined;
    expect(age).toBeGreaterThanOrEqual(30);
    expect(age).toBeLessThan(31);
  });

  it("counts the group's completions: what it delivered and its consumers acknowledged (entries-read - pending)", async () => {
    // XINFO GROUPS entries-read (Redis 7.0) counts deliveries to the group; an entry leaves the
    // pending list when a consumer XACKs it, which it does when it is done with it.
    const ids = await addAged(key('s'), [9_000, 8_000, 7_000, 6_000, 5_000]);
    await redis.xgroup('CREATE', key('s'), 'workers', '0');
    const before = await read([key('s')]);
    await redis.xreadgroup('GROUP', 'workers', 'c1', 'COUNT', 4, 'STREAMS', key('s'), '>');
    await redis.xack(key('s'), 'workers', ids[0] ?? '', ids[1] ?? '', ids[2] ?? '');
    const after = await read([key('s')]);
    expect(before).toMatchObject({ ok: true, reading: { completedTotal: 0, busy: 0, depth: 5 } });
    expect(after).toMatchObject({ ok: true, reading: { completedTotal: 3, busy: 1, depth: 1 } });
    // A group made at an arbitrary ID has no entries-read: no counter, rather than a wrong one.
    await redis.xgroup('CREATE', key('s'), 'late', ids[2] ?? '');
    const unknown = await read([key('s')], 'late');
    expect(unknown.ok && unknown.reading.completedTotal).toBeUndefined();
  });

  it('reports each stream of the pool on its own: its lag and the age of its first undelivered entry', async () => {
    await addAged(key('urgent'), [8_000, 2_000]);
    await addAged(key('bulk'), [40_000]);
    await redis.xgroup('CREATE', key('urgent'), 'workers', '0');
    await redis.xgroup('CREATE', key('bulk'), 'workers', '0');
    const result = await read([key('urgent'), key('bulk')]);
    if (!result.ok) throw result.error;
    const [urgent, bulk] = result.reading.queues ?? [];
    expect([urgent?.name, urgent?.depth, bulk?.name, bulk?.depth]).toEqual([key('urgent'), 2, key('bulk'), 1]);
    expect(urgent?.oldestJobAgeSeconds).toBeGreaterThanOrEqual(8);
    expect(urgent?.oldestJobAgeSeconds).toBeLessThan(9);
    expect(bulk?.oldestJobAgeSeconds).toBe(result.reading.oldestJobAgeSeconds);
  });

  it('reads a group that has consumed everything, and a missing stream, as empty', async () => {
    await addAged(key('done'), [1000]);
    await redis.xgroup('CREATE', key('done'), 'workers', '$');
    const result = await read([key('done'), key('never-created')]);
    expect(result).toMatchObject({ ok: true, reading: { depth: 0, oldestJobAgeSeconds: 0, busy: 0 } });
  });

  it('counts the undelivered entries itself, and says so, when entries were deleted and Redis reports lag nil', async () => {
    const ids = await addAged(key('t'), [6000, 5000, 4000, 3000, 2000, 1000]);
    await redis.xgroup('CREATE', key('t'), 'workers', '0');
    await redis.xreadgroup('GROUP', 'workers', 'c1', 'COUNT', 2, 'STREAMS', key('t'), '>');
    await redis.xdel(key('t'), ids[3] ?? '');
    const info = (await redis.xinfo('GROUPS', key('t'))) as unknown[][];
    expect(info[0]?.[(info[0]?.indexOf('lag') ?? 0) + 1]).toBeNull();

    const result = await read([key('t')]);
    expect(result).toMatchObject({ ok: true, reading: { depth: 3 } });
    expect(result.ok && result.reading.notes?.[0]).toContain('counted');
  });

  it('fails with missing-consumer-group when the stream exists but the group does not', async () => {
    await addAged(key('nogroup'), [1000]);
    const result = await read([key('nogroup')], 'absent');
    expect(result.ok === false && result.error.kind).toBe('missing-consumer-group');
    expect(result.ok === false && result.error.message).toContain(key('nogroup'));
  });

  it('fails with wrong-type naming the key when the key is not a stream', async () => {
    await redis.rpush(key('list'), 'x');
    const result = await read([key('list')]);
    expect(result.ok === false && result.error.kind).toBe('wrong-type');
    expect(result.ok === false && result.error.message).toContain(key('list'));
  });
});
