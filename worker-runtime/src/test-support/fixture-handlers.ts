/**
 * Job handlers for the tests that run real worker processes. Each handler records in Redis what
 * happened (under FIXTURE_PREFIX), so the test can count runs across processes and kills.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { withoutPassword } from '../redis/connection.ts';
import type { Job } from '../worker/job.ts';
import { fixtureKeys } from './fixture-keys.ts';

const prefix = process.env['FIXTURE_PREFIX'] ?? 'fixture:';
const redisUrl = process.env['REDIS_URL'];
if (redisUrl === undefined) throw new Error('the fixture handlers need REDIS_URL');
const password = process.env['REDIS_PASSWORD'];
const redis = new Redis(password === undefined ? redisUrl : withoutPassword(redisUrl), {
  maxRetriesPerRequest: null,
  ...(password === undefined ? {} : { password }),
});
redis.on('error', () => undefined); // the Redis restart test takes the server away on purpose

const keys = fixtureKeys(prefix);

interface RecordData {
  readonly sleepMs?: number;
  /** The job's first start fails after its sleep (a later start succeeds). */
  readonly failFirstRun?: boolean;
}

/** Records its start, sleeps `data.sleepMs`, records its completion (or fails, see failFirstRun). */
export async function record(job: Job): Promise<void> {
  const started = await redis
    .multi()
    .hincrby(keys.starts, job.id, 1)
    .hset(keys.startedBy, job.id, String(process.pid))
    .exec();
  const { sleepMs = 0, failFirstRun = false } = (job.data ?? {}) as RecordData;
  if (sleepMs > 0) await sleep(sleepMs);
  if (failFirstRun && started?.[0]?.[1] === 1) throw new Error(`first run of ${job.id} fails`);
  await redis.multi().hincrby(keys.runs, job.id, 1).hincrby(keys.byPid, String(process.pid), 1).exec();
}

/** Counts one completed run: the cheapest job that still leaves evidence. */
export async function count(job: Job): Promise<void> {
  await redis.multi().hincrby(keys.runs, job.id, 1).hincrby(keys.byPid, String(process.pid), 1).exec();
}
