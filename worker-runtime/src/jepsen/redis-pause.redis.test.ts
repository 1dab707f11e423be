import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '@workerpool/testkit/processes';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { Queue } from '../queue/queue.ts';
import { JobLedger } from '../test-support/job-ledger.ts';
import { Worker } from '../worker/worker.ts';

// Jepsen's pause nemesis: Redis itself freezes (SIGSTOP: a VM stall, a fork on a huge dataset) for
// twice the visibility timeout while workers run and a producer adds. Redis's clock jumps ahead
// meanwhile, so every live reservation looks expired when it answers again; the grace after a gap
// in maintenance must keep the live workers' jobs. No job lost, none run twice, none dead-lettered.
// Long enough against the heartbeat (0.5 s) that a machine starved by other tests does not look
// like a dead worker: a job run twice here is the pause's.
const VISIBILITY_MS = 5_000;
const PAUSE_MS = 2 * VISIBILITY_MS;
const BATCHES = 30;
const PER_BATCH = 20;
const JOBS = BATCHES * PER_BATCH;

describe('Redis paused with SIGSTOP for twice the visibility timeout, under load', () => {
  let server: RedisServer;
  let redis: Redis;
  const workers: Worker[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    redis.disconnect();
    process.kill(server.pid, 'SIGCONT'); // never leave a stopped server behind a failed assertion
    await server.stop();
  });

  it('loses no job and runs none twice', async () => {
    const queue = new Queue('pause', { connection: redis });
    const ledger = new JobLedger();
    for (let i = 0; i < 3; i += 1) {
      const worker = new Worker('pause', {
        connection: redis,
        concurrency: 10,
        visibilityTimeoutMs: VISIBILITY_MS,
        heartbeatIntervalMs: 500,
        maintenanceIntervalMs: 100,
        handlers: { work: ledger.handler((job) => (job.data as { ms: number }).ms) },
      });
      workers.push(worker);
      await worker.start();
    }
    const added: string[] = [];
    // A producer adding a batch every 100 ms throughout, its adds waiting out the pause.
    const producing = (async () => {
      for (let b = 0; b < BATCHES; b += 1) {
        const batch = await queue.addBulk(
          Array.from({ length: PER_BATCH }, (_, i) => ({ name: 'work', data: { ms: 50 + ((b + i) % 10) * 50 } })),
        );
        added.push(...batch.map((r) => r.id));
        await sleep(100);
      }
    })();
    await waitUntil('jobs running before the pause', () => Promise.resolve(ledger.completed >= 50), {
      timeoutMs: 20_000,
    });
    process.kill(server.pid, 'SIGSTOP');
    await sleep(PAUSE_MS);
    process.kill(server.pid, 'SIGCONT');
    await producing;
    await waitUntil(`${JOBS} jobs completed`, () => Promise.resolve(ledger.completed === JOBS), { timeoutMs: 40_000 });
    await waitUntil(
      'the last acks to reach Redis',
      async () => (await redis.hget(queue.keys.counters, 'completed')) === String(JOBS),
    );

    const report = ledger.report(added, new Set(await redis.zrange(queue.keys.dead, '0', '-1')));
    console.log(`Redis paused ${PAUSE_MS / 1000} s (visibility ${VISIBILITY_MS / 1000} s): ${JSON.stringify(report)}`);
    expect(report).toEqual({ added: JOBS, lost: 0, ranTwice: 0, deadLettered: 0 });
    expect(await redis.hget(queue.keys.counters, 'reclaimed')).toBeNull();
    // The gap was seen: maintenance started a grace instead of reclaiming.
    expect(Number(await redis.hget(queue.keys.counters, 'grace-until'))).toBeGreaterThan(0);
  }, 90_000);
});
