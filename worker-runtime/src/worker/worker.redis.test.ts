import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { waitUntil } from '@workerpool/testkit/processes';
import { listDeadLetters, purgeDeadLetters, replayDeadLetters } from '../dead-letters/dead-letters.ts';
import { drainRequestKey, readQueueSignals } from '../protocol/keys.ts';
import { Queue } from '../queue/queue.ts';
import { redisFixture } from '../test-support/redis-fixture.ts';
import { UnrecoverableError } from './errors.ts';
import type { Handlers } from './job.ts';
import { Worker } from './worker.ts';

describe('a worker in process', () => {
  const fx = redisFixture(inject('redisUrl'), 'worker');
  const workers: Worker[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });
  afterAll(() => fx.cleanup());

  function startWorker(
    queue: string,
    handlers: Handlers,
    extra: Partial<ConstructorParameters<typeof Worker>[1]> = {},
  ): Promise<Worker> {
    const worker = new Worker(queue, {
      connection: fx.redis,
      prefix: fx.prefix,
      handlers,
      maintenanceIntervalMs: 100,
      drainTimeoutMs: 2_000,
      ...extra,
    });
    workers.push(worker);
    return worker.start().then(() => worker);
  }

  it('never runs more than `concurrency` handlers at once, and runs every job', async () => {
    const queue = new Queue('concurrency', { connection: fx.redis, prefix: fx.prefix });
    let running = 0;
    let peak = 0;
    let done = 0;
    await startWorker(
      'concurrency',
      {
        work: async () => {
          running += 1;
          peak = Math.max(peak, running);
          await sleep(5);
          running -= 1;
          done += 1;
        },
      },
      { concurrency: 4 },
    );
    await queue.addBulk(Array.from({ length: 200 }, () => ({ name: 'work', data: null })));
    await waitUntil('200 jobs done', () => Promise.resolve(done === 200), { timeoutMs: 20_000 });
    expect(peak).toBe(4);
    const [signals] = await readQueueSignals(fx.redis, [queue.keys]);
    await waitUntil(
      'the last acks to reach Redis',
      async () => (await readQueueSignals(fx.redis, [queue.keys]))[0]?.completed === 200,
    );
    expect(signals?.waiting).toBe(0);
  });

  it('runs a delayed job once it is due, not before', async () => {
    const queue = new Queue('delayed', { connection: fx.redis, prefix: fx.prefix });
    const ranAt: number[] = [];
    await startWorker('delayed', { later: () => void ranAt.push(Date.now()) });
    const addedAt = Date.now();
    await queue.add('later', {}, { delay: 700 });
    await waitUntil('the delayed job to run', () => Promise.resolve(ranAt.length === 1), { timeoutMs: 5_000 });
    expect((ranAt[0] ?? 0) - addedAt).toBeGreaterThanOrEqual(700);
  });

  it('retries a poison job with backoff, then keeps it as a dead letter with its attempts and last error', async () => {
    const queue = new Queue('poison', { connection: fx.redis, prefix: fx.prefix });
    const attempts: number[] = [];
    await startWorker('poison', {
      explode: (job) => {
        attempts.push(job.attempt);
        throw new Error(`kaboom on attempt ${job.attempt}`);
      },
    });
    const { id } = await queue.add('explode', { n: 1 }, { attempts: 3, backoff: 50 });
    await waitUntil(
      'the poison job to become a dead letter',
      async () => (await fx.redis.zscore(queue.keys.dead, id)) !== null,
      { timeoutMs: 10_000 },
    );

    expect(attempts).toEqual([1, 2, 3]);
    const [dead] = await listDeadLetters(fx.redis, queue.keys);
    expect(dead).toMatchObject({ id, name: 'explode', reason: 'attempts-exhausted', attempts: 3, data: { n: 1 } });
    expect(dead?.lastError).toContain('kaboom on attempt 3');
    const [signals] = await readQueueSignals(fx.redis, [queue.keys]);
    expect(signals).toMatchObject({ deadLetters: 1, active: 0, waiting: 0, delayed: 0 });
  });

  it('sends an UnrecoverableError straight to the dead letters, and replays and purges dead letters', async () => {
    const queue = new Queue('unrecoverable', { connection: fx.redis, prefix: fx.prefix });
    let calls = 0;
    let healed = false;
    await startWorker('unrecoverable', {
      charge: () => {
        calls += 1;
        if (!healed) throw new UnrecoverableError('card declined');
      },
    });
    const a = await queue.add('charge', { card: 'a' }, { attempts: 5 });
    const b = await queue.add('charge', { card: 'b' }, { attempts: 5 });
    await waitUntil('both jobs to be dead letters', async () => (await fx.redis.zcard(queue.keys.dead)) === 2, {
      timeoutMs: 5_000,
    });
    expect(calls).toBe(2);
    expect((await listDeadLetters(fx.redis, queue.keys)).map((d) => [d.reason, d.attempts])).toEqual([
      ['unrecoverable', 1],
      ['unrecoverable', 1],
    ]);

    healed = true;
    expect(await replayDeadLetters(fx.redis, queue.keys, [a.id])).toEqual({ replayed: 1, skippedMalformed: [] });
    await waitUntil(
      'the replayed job to complete',
      async () => (await fx.redis.hget(queue.keys.counters, 'completed')) === '1',
      { timeoutMs: 5_000 },
    );
    expect(await purgeDeadLetters(fx.redis, queue.keys, 'all')).toBe(1);
    expect(await fx.redis.hexists(queue.keys.jobs, b.id)).toBe(0);
    expect(await fx.redis.zcard(queue.keys.dead)).toBe(0);
  });

  it('moves malformed payloads and unknown job names to the dead letters and keeps working', async () => {
    const queue = new Queue('malformed', { connection: fx.redis, prefix: fx.prefix });
    let good = 0;
    await startWorker('malformed', { good: () => void (good += 1) });
    // Written by hand, as a buggy producer in another language might.
    await fx.redis.hset(queue.keys.jobs, 'garbage', '{not json', 'nameless', '{"v":1,"id":"nameless"}');
    await fx.redis.lpush(queue.keys.wait, `${Date.now()}:garbage`, `${Date.now()}:nameless`);
    await queue.add('unknown-name', {});
    await queue.add('good', {});
    await waitUntil('the good job to run', () => Promise.resolve(good === 1), { timeoutMs: 5_000 });
    await waitUntil('three dead letters', async () => (await fx.redis.zcard(queue.keys.dead)) === 3, {
      timeoutMs: 5_000,
    });
    const reasons = (await listDeadLetters(fx.redis, queue.keys)).map((d) => d.reason).sort();
    expect(reasons).toEqual(['malformed', 'malformed', 'no-handler']);
    const nameless = (await listDeadLetters(fx.redis, queue.keys)).find((d) => d.id === 'nameless');
    expect(nameless?.lastError).toContain('field "name"');
  });

  it('fails a run that exceeds the job timeout and aborts its signal', async () => {
    const queue = new Queue('timeout', { connection: fx.redis, prefix: fx.prefix });
    let aborted = false;
    await startWorker('timeout', {
      hang: async (job) => {
        job.signal.addEventListener('abort', () => (aborted = true));
        await sleep(10_000, undefined, { signal: job.signal }).catch(() => undefined);
      },
    });
    const { id } = await queue.add('hang', {}, { timeout: 200, attempts: 1 });
    await waitUntil(
      'the timed-out job to be a dead letter',
      async () => (await fx.redis.zscore(queue.keys.dead, id)) !== null,
      { timeoutMs: 5_000 },
    );
    expect(aborted).toBe(true);
    expect((await listDeadLetters(fx.redis, queue.keys))[0]?.lastError).toContain('job timed out after 200 ms');
  });

  it('publishes busy, concurrency, pod name and draining in its heartbeat', async () => {
    const queue = new Queue('heartbeat', { connection: fx.redis, prefix: fx.prefix });
    let release: () => void = () => undefined;
    const blocker = new Promise<void>((resolve) => (release = resolve));
    const worker = await startWorker(
      'heartbeat',
      { block: () => blocker },
      { concurrency: 3, podName: 'mailers-abc', heartbeatIntervalMs: 100 },
    );
    await queue.add('block', {});
    await waitUntil(
      'a heartbeat with one busy slot',
      async () => (await readQueueSignals(fx.redis, [queue.keys]))[0]?.workers[0]?.busy === 1,
    );
    const [signals] = await readQueueSignals(fx.redis, [queue.keys]);
    expect(signals?.workers).toEqual([
      expect.objectContaining({ pod: 'mailers-abc', busy: 1, concurrency: 3, draining: false, pid: process.pid }),
    ]);
    expect(signals?.active).toBe(1);

    const closing = worker.close();
    await waitUntil(
      'a heartbeat saying the worker drains',
      async () => (await readQueueSignals(fx.redis, [queue.keys]))[0]?.workers[0]?.draining === true,
    );
    release();
    await closing;
    const [after] = await readQueueSignals(fx.redis, [queue.keys]);
    expect(after).toMatchObject({ workers: [], active: 0, completed: 1 });
  });

  it('says it is busy before the job of an idle worker runs, not at its next heartbeat', async () => {
    const queue = new Queue('busy-at-once', { connection: fx.redis, prefix: fx.prefix });
    let release: () => void = () => undefined;
    const blocker = new Promise<void>((resolve) => (release = resolve));
    let busyWhenTheJobStarted: number | undefined;
    // A minute between heartbeats: only the idle -> busy beat can report the job in time.
    const worker = await startWorker(
      'busy-at-once',
      {
        block: async () => {
          busyWhenTheJobStarted = (await readQueueSignals(fx.redis, [queue.keys]))[0]?.workers[0]?.busy;
          await blocker;
        },
      },
      { podName: 'mailers-xyz', heartbeatIntervalMs: 60_000, visibilityTimeoutMs: 120_000 },
    );
    await sleep(1_100); // past the start-up heartbeat's minimum gap
    await queue.add('block', {});
    await waitUntil('the job to start', () => Promise.resolve(busyWhenTheJobStarted !== undefined), {
      timeoutMs: 3_000,
    });
    expect(busyWhenTheJobStarted).toBe(1);
    release();
    await worker.close();
  });

  it('announces a job taken within the minimum gap after an idle heartbeat once the gap ends, not a minute later', async () => {
    const queue = new Queue('busy-in-gap', { connection: fx.redis, prefix: fx.prefix });
    let release: () => void = () => undefined;
    const blocker = new Promise<void>((resolve) => (release = resolve));
    const worker = await startWorker(
      'busy-in-gap',
      { block: () => blocker },
      { podName: 'mailers-gap', heartbeatIntervalMs: 60_000, visibilityTimeoutMs: 120_000 },
    );
    await queue.add('block', {}); // right after the start-up heartbeat, which said idle
    await waitUntil(
      'a heartbeat with one busy slot',
      async () => (await readQueueSignals(fx.redis, [queue.keys]))[0]?.workers[0]?.busy === 1,
      { timeoutMs: 5_000 },
    );
    release();
    await worker.close();
  });

  it('prefetches while jobs are short, and hands prefetched jobs back at once when it starts draining', async () => {
    const queue = new Queue('prefetch', { connection: fx.redis, prefix: fx.prefix });
    let quick = 0;
    let release: () => void = () => undefined;
    const blocker = new Promise<void>((resolve) => (release = resolve));
    const worker = await startWorker(
      'prefetch',
      { quick: () => void (quick += 1), block: () => blocker },
      { concurrency: 2 },
    );
    await queue.addBulk(Array.from({ length: 30 }, () => ({ name: 'quick', data: null })));
    await waitUntil('30 quick jobs, teaching the worker its jobs are short', () => Promise.resolve(quick === 30));

    await queue.addBulk([
      { name: 'block', data: null },
      { name: 'block', data: null },
      { name: 'quick', data: null },
      { name: 'quick', data: null },
    ]);
    await waitUntil(
      'both slots blocked and two more jobs held in reserve',
      async () => (await fx.redis.zcard(queue.keys.active)) === 4,
    );
    expect(worker.busy).toBe(2);

    const closing = worker.close();
    await waitUntil(
      'the prefetched jobs to be back on the wait list while the blocked ones still run',
      async () => (await fx.redis.llen(queue.keys.wait)) === 2,
    );
    expect(quick).toBe(30);
    release();
    await closing;
    expect(await fx.redis.zcard(queue.keys.active)).toBe(0);
  });

  it('drains on a remote request: takes no new job, finishes and acks the running one, stays alive saying draining with busy 0', async () => {
    const queue = new Queue('remote-drain', { connection: fx.redis, prefix: fx.prefix });
    let release: () => void = () => undefined;
    const blocker = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const worker = await startWorker(
      'remote-drain',
      {
        block: () => {
          started += 1;
          return blocker;
        },
        other: () => void (started += 1),
      },
      { concurrency: 2, podName: 'mailers-drain', heartbeatIntervalMs: 100 },
    );
    await queue.add('block', {});
    await waitUntil('the blocking job to run', () => Promise.resolve(worker.busy === 1));
    const signals = async () => (await readQueueSignals(fx.redis, [queue.keys]))[0];

    // What the operator sends (PROTOCOL.md, "Remote drain"): one key with a TTL, nothing else.
    await fx.redis.set(drainRequestKey(queue.keys, worker.workerId), '1', 'EX', 60);
    await waitUntil(
      'a heartbeat saying the worker drains',
      async () => (await signals())?.workers[0]?.draining === true,
    );
    await queue.add('other', {});
    await sleep(300); // three heartbeats and a free slot: a worker still taking jobs would have taken it
    expect({ started, busy: worker.busy, waiting: (await signals())?.waiting }).toEqual({
      started: 1,
      busy: 1,
      waiting: 1,
    });

    release();
    await waitUntil(
      'the running job acked and busy 0 published while the worker stays alive',
      async () => {
        const now = await signals();
        return now?.completed === 1 && now.workers[0]?.busy === 0 && now.workers[0].draining;
      },
      { timeoutMs: 5_000 },
    );
    // Drained, not closing: the pod stays ready (cli/run-command.ts) until it is removed.
    expect([worker.isDraining, worker.isClosing]).toEqual([true, false]);
    await worker.close();
    expect(await fx.redis.exists(drainRequestKey(queue.keys, worker.workerId))).toBe(0);
    expect((await signals())?.workers).toEqual([]);
  });

  it('close() is idempotent: a second call shares the first promise, and closing/closed fire once', async () => {
    const worker = await startWorker('idempotent-close', {});
    const events: string[] = [];
    worker.on('closing', () => events.push('closing'));
    worker.on('closed', () => events.push('closed'));
    const first = worker.close();
    expect(worker.close()).toBe(first);
    await first;
    await worker.close();
    expect(events).toEqual(['closing', 'closed']);
  });
});
