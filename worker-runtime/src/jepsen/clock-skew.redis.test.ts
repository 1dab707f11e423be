import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { waitUntil } from '@workerpool/testkit/processes';
import { Queue } from '../queue/queue.ts';
import { JobLedger } from '../test-support/job-ledger.ts';
import { redisFixture } from '../test-support/redis-fixture.ts';
import { Worker } from '../worker/worker.ts';

// Jepsen's clock nemesis, for the runtime: one worker's clock runs a minute ahead of the others'.
// Reservations, reclaims and due times are Redis's clock, so that worker must reclaim nothing
// early: no job lost, none run twice, none dead-lettered, nothing reclaimed.
const JOBS = 200;
const WORKERS = 4;
const CONCURRENCY = 10;
// Jobs of 12 s outlive the 10 s visibility timeout: they are kept only by heartbeats, which is
// exactly what a skewed reclaimer would ignore. The timeout is far longer than a heartbeat, so a
// machine starved by other tests does not look like a dead worker: a reclaim here is the skew's.
const VISIBILITY_MS = 10_000;
const HEARTBEAT_MS = 1_000;
const LONG_JOB_MS = 12_000;
const SKEW_MS = 60_000;

describe('a worker whose clock is 60 s ahead, among normal workers', () => {
  const fx = redisFixture(inject('redisUrl'), 'jepsen-clock');
  const workers: Worker[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });
  afterAll(() => fx.cleanup());

  it('loses no job, runs none twice and reclaims nothing', async () => {
    const queue = new Queue('skew', { connection: fx.redis, prefix: fx.prefix });
    const ledger = new JobLedger();
    const ranOnSkewed = new Set<string>();
    for (let i = 0; i < WORKERS; i += 1) {
      const skewed = i === 0;
      const work = ledger.handler((job) => (job.data as { ms: number }).ms);
      const worker = new Worker('skew', {
        connection: fx.redis,
        prefix: fx.prefix,
        concurrency: CONCURRENCY,
        visibilityTimeoutMs: VISIBILITY_MS,
        heartbeatIntervalMs: HEARTBEAT_MS,
        maintenanceIntervalMs: 200,
        podName: skewed ? 'skewed' : `normal-${i}`,
        handlers: {
          work: skewed
            ? async (job) => {
                ranOnSkewed.add(job.id);
                await work(job);
              }
            : work,
        },
        ...(skewed ? { now: () => Date.now() + SKEW_MS } : {}),
      });
      workers.push(worker);
      await worker.start();
    }
    // Mostly short jobs, every tenth one longer than the visibility timeout.
    const added = await queue.addBulk(
      Array.from({ length: JOBS }, (_, i) => ({
        name: 'work',
        data: { ms: i % 10 === 0 ? LONG_JOB_MS : 100 + (i % 7) * 100 },
      })),
    );
    await waitUntil(`${JOBS} jobs completed`, () => Promise.resolve(ledger.completed === JOBS), { timeoutMs: 45_000 });
    await waitUntil(
      'the last acks to reach Redis',
      async () => (await fx.redis.hget(queue.keys.counters, 'completed')) === String(JOBS),
    );

    const dead = new Set(await fx.redis.zrange(queue.keys.dead, '0', '-1'));
    const report = ledger.report(
      added.map((a) => a.id),
      dead,
    );
    console.log(`clock skew +${SKEW_MS / 1000} s on 1 of ${WORKERS} workers: ${JSON.stringify(report)}`);
    expect(report).toEqual({ added: JOBS, lost: 0, ranTwice: 0, deadLettered: 0 });
    expect(ranOnSkewed.size).toBeGreaterThan(0); // the skewed worker took part
    expect(await fx.redis.hget(queue.keys.counters, 'reclaimed')).toBeNull();
    expect(await fx.redis.hlen(queue.keys.stalls)).toBe(0);
  }, 90_000);
});
