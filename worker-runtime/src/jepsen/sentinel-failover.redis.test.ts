import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '@workerpool/testkit/processes';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { sentinelMasterPort, startSentinels, type RedisSentinel } from '@workerpool/testkit/redis-sentinel';
import { queueKeys, readQueueSignals } from '../protocol/keys.ts';
import { Queue } from '../queue/queue.ts';
import { JobLedger } from '../test-support/job-ledger.ts';
import { Worker } from '../worker/worker.ts';

// Jepsen's kill nemesis on a replicated Redis: a primary with one replica and three real Sentinels
// (quorum 2), 10,000 jobs added while workers run, the primary SIGKILLed part-way. Redis replicates
// asynchronously, so an add the primary acknowledged but had not yet sent to the replica is lost
// when the replica is promoted; a durable add (WAIT for one replica) is not. The old primary comes
// back (as a pod would) and Sentinel makes it a replica of the new one, so durable adds go on.
const MASTER = 'jepsen';
const JOBS = 10_000;
const BATCH = 100;
const KILL_AFTER = 3_000;

describe('a primary killed under load, with a replica and three Sentinels', () => {
  let primary: RedisServer;
  let replica: RedisServer;
  let sentinels: RedisSentinel[] = [];
  const clients: Redis[] = [];
  const workers: Worker[] = [];
  const connect = () => {
    const client = new Redis({
      sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      name: MASTER,
      maxRetriesPerRequest: null,
      retryStrategy: () => 100,
    });
    client.on('error', () => undefined); // the failover drops connections on purpose
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    primary = await startRedisServer();
    replica = await startRedisServer({ replicaOf: primary.port });
    sentinels = await startSentinels(3, MASTER, primary.port, {
      quorum: 2,
      downAfterMs: 1_000,
      failoverTimeoutMs: 5_000,
      replicas: 1,
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    for (const c of clients) c.disconnect();
    await Promise.all(sentinels.map((s) => s.stop()));
    await replica.stop();
    await primary.stop();
  });

  it('loses no durable add; plain adds lost to the failover are counted', async () => {
    const ledger = new JobLedger();
    for (let i = 0; i < 3; i += 1) {
      const worker = new Worker('failover', {
        connection: connect(),
        concurrency: 20,
        visibilityTimeoutMs: 3_000,
        heartbeatIntervalMs: 500,
        maintenanceIntervalMs: 200,
        handlers: { work: ledger.handler(() => 2) },
      });
      workers.push(worker);
      await worker.start();
    }
    const plain = new Queue('failover', { connection: connect() });
    const durable = new Queue('failover', { connection: connect(), durability: { replicas: 1, timeoutMs: 1_000 } });
    const acknowledged = { plain: [] as string[], durable: [] as string[] };
    let durableRetries = 0;

    // Batches alternate between the two producers; a durable batch is retried (same jobIds, so
    // idempotent) until a replica has it, as a producer that asked for durability does.
    const producing = (async () => {
      for (let b = 0; b < JOBS / BATCH; b += 1) {
        const kind = b % 2 === 0 ? 'plain' : 'durable';
        const jobs = Array.from({ length: BATCH }, (_, i) => ({
          name: 'work',
          data: null,
          opts: { jobId: `${kind}-${b}-${i}` },
        }));
        for (;;) {
          try {
            await (kind === 'plain' ? plain : durable).addBulk(jobs);
            break;
          } catch {
            durableRetries += 1;
            await sleep(100);
          }
        }
        acknowledged[kind].push(...jobs.map((j) => j.opts.jobId));
        await sleep(15);
      }
    })();

    await waitUntil(
      `${KILL_AFTER} adds acknowledged`,
      () => Promise.resolve(acknowledged.plain.length + acknowledged.durable.length >= KILL_AFTER),
      { timeoutMs: 30_000 },
    );
    process.kill(primary.pid, 'SIGKILL');
    const killedAt = Date.now();
    await waitUntil(
      'the Sentinels to promote the replica',
      async () => (await sentinelMasterPort(sentinels[0] as RedisSentinel, MASTER)) === replica.port,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const failoverMs = Date.now() - killedAt;
    await primary.restart(); // Sentinel turns it into a replica of the new primary

    await producing;
    const signals = connect();
    const keys = queueKeys('wp:', 'failover');
    const durableIds = new Set(acknowledged.durable);
    await waitUntil(
      'every durable job to complete and the queue to drain',
      async () => {
        const [s] = await readQueueSignals(signals, [keys]);
        const durableDone = [...durableIds].every((id) => ledger.completions.has(id));
        return durableDone && s?.waiting === 0 && s.active === 0 && s.delayed === 0;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

    const dead = new Set(await signals.zrange(keys.dead, '0', '-1'));
    const all = ledger.report([...acknowledged.plain, ...acknowledged.durable], dead);
    const durableReport = ledger.report(acknowledged.durable, dead);
    const plainReport = ledger.report(acknowledged.plain, dead);
    console.log(
      `failover after ${KILL_AFTER} of ${JOBS} adds, promoted in ${failoverMs} ms, ${durableRetries} durable batch retries: ` +
        `durable ${JSON.stringify({ added: durableReport.added, lost: durableReport.lost })}, ` +
        `plain ${JSON.stringify({ added: plainReport.added, lost: plainReport.lost })}, ` +
        `all ${JSON.stringify(all)}`,
    );
    expect(all.added).toBe(JOBS);
    expect(durableReport.lost).toBe(0);
  }, 150_000);
});
