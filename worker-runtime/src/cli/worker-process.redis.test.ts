import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { waitUntil, type ManagedProcess } from '@workerpool/testkit/processes';
import { startRedisServer } from '@workerpool/testkit/redis-server';
import { queueKeys, readQueueSignals } from '../protocol/keys.ts';
import { Queue } from '../queue/queue.ts';
import { fixtureKeys, fixturePrefix } from '../test-support/fixture-keys.ts';
import { redisFixture } from '../test-support/redis-fixture.ts';
import { loggedMetricsPort, startWorkerProcess, type WorkerProcessOptions } from '../test-support/worker-process.ts';

describe('worker processes', () => {
  const fx = redisFixture(inject('redisUrl'), 'proc');
  const fixture = (queue: string) => fixtureKeys(fixturePrefix(fx.prefix, queue));
  const processes: ManagedProcess[] = [];
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
  });
  afterAll(() => fx.cleanup());

  function spawn(queue: string, podName: string, extra: Partial<WorkerProcessOptions> = {}): ManagedProcess {
    const proc = startWorkerProcess({ redisUrl: fx.url, prefix: fx.prefix, queue, podName, ...extra });
    processes.push(proc);
    return proc;
  }

  async function signals(queue: string) {
    const [s] = await readQueueSignals(fx.redis, [queueKeys(fx.prefix, queue)]);
    if (!s) throw new Error('no signals');
    return s;
  }

  const waitForHeartbeat = (queue: string, proc: ManagedProcess) =>
    waitUntil(
      `a heartbeat from ${proc.name}`,
      async () => (await signals(queue)).workers.some((w) => w.pod === proc.name),
      { process: proc, timeoutMs: 20_000 },
    );

  it('runs a job again in another worker after the visibility timeout when its worker is SIGKILLed mid-job', async () => {
    const queue = new Queue('kill', { connection: fx.redis, prefix: fx.prefix });
    const first = spawn('kill', 'kill-a');
    await waitForHeartbeat('kill', first);
    // Long enough to outlast starting the second worker process, which takes seconds on a loaded machine.
    const { id } = await queue.add('record', { sleepMs: 8_000 });
    await waitUntil(
      'the job to start in the first worker',
      async () => (await fx.redis.hget(fixture('kill').startedBy, id)) === String(first.child.pid),
      { process: first },
    );

    const second = spawn('kill', 'kill-b');
    await waitForHeartbeat('kill', second);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();

    await waitUntil(
      'the job to complete in the second worker',
      async () => (await fx.redis.hget(fixture('kill').runs, id)) === '1',
      { timeoutMs: 30_000, process: second },
    );
    expect(await fx.redis.hget(fixture('kill').startedBy, id)).toBe(String(second.child.pid));
    expect(await fx.redis.hget(fixture('kill').starts, id)).toBe('2'); // ran twice: once killed, once to completion
    // Not reclaimed early: the dead worker's reservation had to expire first (1 s visibility timeout).
    const restartedAfter = Date.now() - killedAt;
    expect(restartedAfter).toBeGreaterThanOrEqual(1_000);
    await waitUntil('the completion to be counted', async () => (await signals('kill')).completed === 1);
    expect(await signals('kill')).toMatchObject({ active: 0, waiting: 0 });
  }, 90_000);

  it('drains on SIGTERM: finishes what it can, returns the rest to the head of the queue, says it drains, exits 0', async () => {
    const queue = new Queue('drain', { connection: fx.redis, prefix: fx.prefix });
    // Generous margins: the machine is shared, and the short jobs must finish well within the drain deadline.
    const proc = spawn('drain', 'drain-a', {
      concurrency: 4,
      env: { WORKERPOOL_DRAIN_TIMEOUT_SECONDS: '4', WORKERPOOL_VISIBILITY_TIMEOUT_SECONDS: '5' },
    });
    await waitForHeartbeat('drain', proc);
    const [long1, long2, short1, short2] = await queue.addBulk([
      { name: 'record', data: { sleepMs: 30_000 } },
      { name: 'record', data: { sleepMs: 30_000 } },
      { name: 'record', data: { sleepMs: 300 } },
      { name: 'record', data: { sleepMs: 300 } },
    ]);
    await waitUntil('four jobs to start', async () => (await fx.redis.hlen(fixture('drain').starts)) === 4, {
      process: proc,
    });
    const [waiting1, waiting2] = await queue.addBulk([
      { name: 'record', data: {} },
      { name: 'record', data: {} },
    ]);

    const exited = new Promise<number | null>((resolve) => proc.child.once('exit', (code) => resolve(code)));
    proc.child.kill('SIGTERM');
    await waitUntil('the heartbeat to say draining', async () =>
      (await signals('drain')).workers.some((w) => w.pod === 'drain-a' && w.draining),
    );
    const code = await exited;

    expect(code).toBe(0);
    expect(
      await fx.redis.hmget(fixture('drain').runs, short1?.id ?? '', short2?.id ?? '', long1?.id ?? '', long2?.id ?? ''),
    ).toEqual(['1', '1', null, null]);
    const wait = await fx.redis.lrange(queueKeys(fx.prefix, 'drain').wait, 0, -1);
    // The head is the right end: the returned long jobs run next, ahead of the jobs that were waiting.
    expect(wait.map((entry) => entry.slice(entry.indexOf(':') + 1))).toEqual([
      waiting2?.id,
      waiting1?.id,
      long2?.id,
      long1?.id,
    ]);
    expect(await signals('drain')).toMatchObject({ active: 0, workers: [], completed: 2 });
  });

  it('completes 10,000 jobs with 4 worker processes, every job exactly once', async () => {
    const queue = new Queue('many', { connection: fx.redis, prefix: fx.prefix });
    // Exactly once holds while no worker dies. At the harness's 1 s visibility timeout a pause of a
    // CPU-starved machine looks like a death and a job runs again; 30 s keeps this test about the
    // happy path (the SIGKILL test above covers the other).
    const env = { WORKERPOOL_VISIBILITY_TIMEOUT_SECONDS: '30' };
    const workers = [1, 2, 3, 4].map((n) => spawn('many', `many-${n}`, { concurrency: 20, env }));
    await Promise.all(workers.map((w) => waitForHeartbeat('many', w)));
    const jobs = Array.from({ length: 10_000 }, (_, i) => ({ name: 'count', data: { i } }));
    await queue.addBulk(jobs);

    await waitUntil('10,000 completions', async () => (await signals('many')).completed === 10_000, {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    const runs = await fx.redis.hvals(fixture('many').runs);
    expect(runs.length).toBe(10_000);
    expect(runs.filter((r) => r !== '1')).toEqual([]); // no job ran twice: nobody was killed
    const perWorker = await fx.redis.hgetall(fixture('many').byPid);
    expect(Object.keys(perWorker).sort()).toEqual(workers.map((w) => String(w.child.pid)).sort()); // all four took part
    expect(await signals('many')).toMatchObject({ waiting: 0, active: 0, deadLetters: 0 });
  }, 90_000);

  it('serves /metrics, /healthz and /readyz, and stops being ready while it drains', async () => {
    const queue = new Queue('http', { connection: fx.redis, prefix: fx.prefix });
    const proc = spawn('http', 'http-a', { env: { WORKERPOOL_DRAIN_TIMEOUT_SECONDS: '3' } });
    await waitUntil(
      'the worker to log its metrics port',
      () => Promise.resolve(loggedMetricsPort(proc) !== undefined),
      { process: proc },
    );
    const base = `http://127.0.0.1:${loggedMetricsPort(proc)}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await queue.add('record', { sleepMs: 1_000 });
    await waitUntil('the job to complete', async () => (await signals('http')).completed === 1);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^workerpool_jobs_processed_total\{queue="http",name="record"\} 1$/m);
    for (const name of [
      'workerpool_job_duration_seconds_bucket',
      'workerpool_jobs_in_flight',
      'workerpool_fetch_duration_seconds_count',
      'workerpool_process_cpu_seconds_total',
    ]) {
      expect(metrics).toContain(name);
    }

    await queue.add('record', { sleepMs: 2_000 });
    await waitUntil('the second job to start', async () => (await signals('http')).active === 1);
    proc.child.kill('SIGTERM');
    await waitUntil(
      '/readyz to answer 503 while draining',
      async () => (await fetch(`${base}/readyz`)).status === 503,
      { process: proc },
    );
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('survives a Redis restart: reconnects and goes on with new jobs', async () => {
    const server = await startRedisServer({ password: 'restart-secret' });
    try {
      // The password comes as REDIS_PASSWORD, as from a Secret, and the URL carries a stale one: the variable wins.
      const proc = spawn('restart', 'restart-a', {
        redisUrl: `redis://:stale@127.0.0.1:${server.port}`,
        env: { REDIS_PASSWORD: 'restart-secret' },
      });
      const own = redisFixture(server.url, 'restart');
      const queue = new Queue('restart', { connection: own.redis, prefix: fx.prefix });
      const ownFixture = fixture('restart');
      const completed = async () => (await readQueueSignals(own.redis, [queue.keys]))[0]?.completed ?? 0;
      await queue.add('count', {});
      await waitUntil('the first job to complete', async () => (await completed()) === 1, { process: proc });

      await server.restart(); // the data is gone: the worker must republish its heartbeat and reload its scripts
      await waitUntil(
        'the heartbeat to come back after the restart',
        async () => ((await readQueueSignals(own.redis, [queue.keys]))[0]?.workers.length ?? 0) === 1,
        {
          process: proc,
          timeoutMs: 20_000,
        },
      );
      await queue.addBulk(Array.from({ length: 50 }, () => ({ name: 'count', data: {} })));
      await waitUntil('50 jobs after the restart to complete', async () => (await completed()) === 50, {
        process: proc,
        timeoutMs: 20_000,
      });
      expect(await own.redis.hlen(ownFixture.runs)).toBe(50);
      expect(proc.output()).not.toContain('restart-secret');
      expect(proc.output()).not.toContain('stale');
      await own.cleanup();
    } finally {
      await server.stop();
    }
  });
});
