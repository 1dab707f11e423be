import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { waitUntil, type ManagedProcess } from '@workerpool/testkit/processes';
import { Queue } from '../queue/queue.ts';
import { fixtureKeys, fixturePrefix } from '../test-support/fixture-keys.ts';
import { redisFixture } from '../test-support/redis-fixture.ts';
import { loggedMetricsPort, startWorkerProcess } from '../test-support/worker-process.ts';

// A worker process frozen mid-job (SIGSTOP: a long GC pause, a VM stall, a partition) past its
// visibility timeout: its jobs are reclaimed and run by another worker. When it thaws, it finishes
// the same jobs and acks, fails and extends with reservations it no longer holds. Tokens make all of
// that a no-op: each job completes once in the counters, none is retried or dead-lettered by the
// stale worker, and the stale attempts are counted in its metrics.
const JOBS = 6;
const JOB_MS = 2_000;

describe('a stale worker acting after its jobs were reclaimed', () => {
  const fx = redisFixture(inject('redisUrl'), 'jepsen-stale');
  const fixture = fixtureKeys(fixturePrefix(fx.prefix, 'stale'));
  const processes: ManagedProcess[] = [];
  afterEach(async () => {
    for (const p of processes) p.child.kill('SIGCONT');
    await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
  });
  afterAll(() => fx.cleanup());

  const spawn = (podName: string) => {
    const proc = startWorkerProcess({
      redisUrl: fx.url,
      prefix: fx.prefix,
      queue: 'stale',
      podName,
      concurrency: JOBS,
    });
    processes.push(proc);
    return proc;
  };
  const startedBy = async (proc: ManagedProcess) =>
    Object.values(await fx.redis.hgetall(fixture.startedBy)).filter((pid) => pid === String(proc.child.pid)).length;

  it('changes nothing with its old tokens, and counts every stale attempt', async () => {
    const queue = new Queue('stale', { connection: fx.redis, prefix: fx.prefix });
    const stale = spawn('stale-a');
    await waitUntil(
      'the first worker to publish a heartbeat',
      async () => (await fx.redis.zcard(queue.keys.workers)) === 1,
      {
        process: stale,
        timeoutMs: 20_000,
      },
    );
    // Half of the jobs fail on their first run (which is the stale worker's): a stale failure.
    const added = await queue.addBulk(
      Array.from({ length: JOBS }, (_, i) => ({
        name: 'record',
        data: { sleepMs: JOB_MS, failFirstRun: i % 2 === 0 },
      })),
    );
    await waitUntil(`all ${JOBS} jobs to start in the first worker`, async () => (await startedBy(stale)) === JOBS, {
      process: stale,
    });
    stale.child.kill('SIGSTOP');

    const fresh = spawn('fresh-b');
    await waitUntil(
      'the second worker to run every job to completion',
      async () => Number((await fx.redis.hget(fixture.byPid, String(fresh.child.pid))) ?? 0) === JOBS,
      { process: fresh, timeoutMs: 30_000 },
    );
    await waitUntil(
      'the second worker to acknowledge every job',
      async () => (await fx.redis.hget(queue.keys.counters, 'completed')) === String(JOBS),
      { process: fresh },
    );

    stale.child.kill('SIGCONT');
    const port = loggedMetricsPort(stale);
    const staleAttempts = async (operation: string) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`workerpool_stale_reservations_total{queue="stale",operation="${operation}"}`));
      return Number(line?.split(' ')[1] ?? 0);
    };
    // The thawed worker finishes its runs: half succeed (stale acks), half fail (stale failures).
    await waitUntil(
      'the stale worker to ack and fail with its old tokens',
      async () => (await staleAttempts('ack')) === JOBS / 2 && (await staleAttempts('fail')) === JOBS / 2,
      { process: stale, timeoutMs: 20_000 },
    );

    const starts = Object.values(await fx.redis.hgetall(fixture.starts)).map(Number);
    const report = {
      added: added.length,
      lost: JOBS - Number(await fx.redis.hget(queue.keys.counters, 'completed')),
      ranTwice: starts.filter((n) => n > 1).length,
      deadLettered: await fx.redis.zcard(queue.keys.dead),
      staleAcks: await staleAttempts('ack'),
      staleFailures: await staleAttempts('fail'),
    };
    console.log(`stale worker frozen past its visibility timeout: ${JSON.stringify(report)}`);
    // Every job ran twice — once in the frozen worker, once after the reclaim — which is the
    // at-least-once promise for a worker that stalls; nothing else happened twice.
    expect(report).toEqual({
      added: JOBS,
      lost: 0,
      ranTwice: JOBS,
      deadLettered: 0,
      staleAcks: JOBS / 2,
      staleFailures: JOBS / 2,
    });
    expect(await fx.redis.hget(queue.keys.counters, 'completed')).toBe(String(JOBS)); // the stale acks did not count
    expect(await fx.redis.hget(queue.keys.counters, 'retried')).toBeNull(); // nor did the stale failures
    expect(await fx.redis.llen(queue.keys.wait)).toBe(0);
    expect(await fx.redis.zcard(queue.keys.active)).toBe(0);
    expect(await fx.redis.hlen(queue.keys.jobs)).toBe(0);
  }, 90_000);
});
