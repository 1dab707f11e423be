import { afterAll, describe, expect, inject, it } from 'vitest';
import { readQueueSignals } from '../protocol/keys.ts';
import { redisFixture } from '../test-support/redis-fixture.ts';
import { redisTimeMs } from '../protocol/redis-time.ts';
import { Queue } from './queue.ts';

describe('adding jobs', () => {
  const fx = redisFixture(inject('redisUrl'), 'queue');
  afterAll(() => fx.cleanup());

  it('adds a job with a jobId only once, however often it is added', async () => {
    const queue = new Queue('invoices', { connection: fx.redis, prefix: fx.prefix });
    const first = await queue.add('render', { invoice: 7 }, { jobId: 'invoice-7' });
    const again = await queue.add('render', { invoice: 7, changed: true }, { jobId: 'invoice-7' });
    const bulk = await queue.addBulk([
      { name: 'render', data: { invoice: 7 }, opts: { jobId: 'invoice-7' } },
      { name: 'render', data: { invoice: 8 }, opts: { jobId: 'invoice-8' } },
    ]);

    expect(first).toEqual({ id: 'invoice-7', added: true });
    expect(again).toEqual({ id: 'invoice-7', added: false });
    expect(bulk).toEqual([
      { id: 'invoice-7', added: false },
      { id: 'invoice-8', added: true },
    ]);
    expect(await fx.redis.llen(queue.keys.wait)).toBe(2);
    const stored = JSON.parse((await fx.redis.hget(queue.keys.jobs, 'invoice-7')) ?? '{}') as { data: unknown };
    expect(stored.data).toEqual({ invoice: 7 }); // the duplicate did not overwrite the first payload
  });

  it('keeps delayed jobs out of the wait list, timing both by the clock of Redis, not of the producer', async () => {
    // A producer whose clock is an hour behind: the jobs are still ready and due by Redis's TIME.
    const queue = new Queue('reports', { connection: fx.redis, prefix: fx.prefix, now: () => Date.now() - 3_600_000 });
    const before = await redisTimeMs(fx.redis);
    await queue.add('daily', {});
    await queue.add('weekly', {}, { delay: 60_000 });
    const after = await redisTimeMs(fx.redis);
    const [signals] = await readQueueSignals(fx.redis, [queue.keys], after + 4_000);
    expect(signals).toMatchObject({ waiting: 1, delayed: 1, delayedDue: 0 });
    expect(signals?.oldestAgeMs).toBeGreaterThanOrEqual(4_000);
    expect(signals?.oldestAgeMs).toBeLessThanOrEqual(after + 4_000 - before);
    const [, dueAt] = await fx.redis.zrange(queue.keys.delayed, '0', '0', 'WITHSCORES');
    expect(Number(dueAt)).toBeGreaterThanOrEqual(before + 60_000);
    expect(Number(dueAt)).toBeLessThanOrEqual(after + 60_000);
  });

  it('adds 1,200 jobs in one addBulk, generating distinct ids', async () => {
    const queue = new Queue('bulk', { connection: fx.redis, prefix: fx.prefix });
    const results = await queue.addBulk(Array.from({ length: 1_200 }, (_, i) => ({ name: 'n', data: i })));
    expect(new Set(results.map((r) => r.id)).size).toBe(1_200);
    expect(await fx.redis.llen(queue.keys.wait)).toBe(1_200);
  });

  it('rejects bad options with a message naming the field', async () => {
    const queue = new Queue('bad', { connection: fx.redis, prefix: fx.prefix });
    await expect(queue.add('x', {}, { attempts: 0 })).rejects.toThrow(
      'queue.add("x") opts.attempts must be an integer >= 1, got 0',
    );
    await expect(queue.add('x', {}, { delay: -5 })).rejects.toThrow('queue.add("x") opts.delay must be a number >= 0');
    await expect(queue.add('x', {}, { jobId: '' })).rejects.toThrow(
      'queue.add("x") opts.jobId must be a non-empty string',
    );
    expect(() => new Queue('has space', { connection: fx.redis })).toThrow(
      'queue name "has space" must not contain braces or whitespace',
    );
  });
});
