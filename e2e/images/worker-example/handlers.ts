/**
 * Example job handlers, as an application team adds them on top of the worker image. Besides
 * doing their "work" (sleeping), they leave evidence in Redis so that a test or the playground can
 * tell which job ran, how often, on which pod, and which runs never finished:
 *   <EXAMPLE_RECORD_PREFIX>started   hash  job id -> runs started
 *   <EXAMPLE_RECORD_PREFIX>finished  hash  job id -> runs finished
 *   <EXAMPLE_RECORD_PREFIX>pods      hash  job id -> the pod of the last run
 *   <EXAMPLE_RECORD_PREFIX>startedAt hash  job id -> epoch ms its first run started (reaction benchmark)
 *   <EXAMPLE_RECORD_PREFIX>done      counter of finished runs (jobs done per second in the playground)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Job } from '@workerpool/worker-runtime';

const prefix = process.env['EXAMPLE_RECORD_PREFIX'] ?? 'example:';
const pod = process.env['WORKERPOOL_POD_NAME'] ?? process.env['HOSTNAME'] ?? 'unknown';
const url = process.env['REDIS_URL'];
if (url === undefined) throw new Error('the example handlers need REDIS_URL (the operator sets it on native pools)');
const password = process.env['REDIS_PASSWORD'];
const redis = new Redis(url, { maxRetriesPerRequest: null, ...(password === undefined ? {} : { password }) });
redis.on('error', () => undefined); // reconnects on its own; the worker reports Redis errors

interface WorkData {
  readonly ms?: number;
}

/** Sleeps `data.ms` (default 200 ms), as a job that takes time would. */
export async function work(job: Job): Promise<void> {
  await redis
    .multi()
    .hincrby(`${prefix}started`, job.id, 1)
    .hset(`${prefix}pods`, job.id, pod)
    .hsetnx(`${prefix}startedAt`, job.id, String(Date.now()))
    .exec();
  const { ms = 200 } = (job.data ?? {}) as WorkData;
  await sleep(ms);
  await redis.multi().hincrby(`${prefix}finished`, job.id, 1).incr(`${prefix}done`).exec();
}
