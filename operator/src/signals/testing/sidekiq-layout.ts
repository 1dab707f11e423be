import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sidekiqKeys } from '../sidekiq-reader.ts';

// Writes data exactly as Sidekiq itself lays it out (lib/sidekiq/client.rb, scheduled.rb,
// job_retry.rb, launcher.rb), so that the reader is tested against the real layout. Each version
// is the newest of its line whose layout differs from the one before it; the lines cited are
// those of Sidekiq's own files at that tag.

/**
 * - 6.4: Debian 12's ruby-sidekiq 6.4.1: `<identity>:workers`, concurrency and queues in `info`;
 * - 7.3: 7.3.9: capsules, `<identity>:work`, `weights` in `info`;
 * - 8.0: 8.0.10: integer-millisecond enqueued_at, `capsules` in `info` beside the deprecated
 *   `queues` and `weights`;
 * - 8.1: 8.1.7 (from 8.1.2): `concurrency` a field of the process hash, no longer in `info`.
 */
export type SidekiqVersion = '6.4' | '7.3' | '8.0' | '8.1';
export const SIDEKIQ_VERSIONS: readonly SidekiqVersion[] = ['6.4', '7.3', '8.0', '8.1'];

/** One Sidekiq process as its launcher describes itself. */
export interface SidekiqProcess {
  hostname: string;
  /** Capsules by name with their queues; a process of Sidekiq 6 has one, "default". */
  capsules?: Record<string, { concurrency: number; queues: string[] }>;
  /** Shorthand for one "default" capsule. */
  queues?: string[];
  concurrency?: number;
  /** Jobs running now: each one is a field of the process's running-jobs hash. */
  busy: number;
  beatAgeSeconds?: number;
  quiet?: boolean;
}

export interface SidekiqWriter {
  readonly version: SidekiqVersion;
  /** Sidekiq::Client#push of a job enqueued `ageSeconds` ago (LPUSH, so the oldest is at -1). */
  push(queue: string, ageSeconds: number): Promise<void>;
  /** perform_in: a job in the schedule ZSET scored by its run time (epoch seconds). */
  schedule(queue: string, runInSeconds: number): Promise<void>;
  /** A failed job waiting in the retry ZSET for its next attempt. */
  retry(queue: string, retryInSeconds: number): Promise<void>;
  /** A process heartbeat (Launcher#❤), its hashes expiring after 60 s as Sidekiq's do; returns the identity. */
  heartbeat(process: SidekiqProcess): Promise<string>;
  /** A process still in the SET whose heartbeat hash has expired (a process that died). */
  deadProcess(hostname: string): Promise<void>;
  setProcessed(count: number): Promise<void>;
  /**
   * What one process ran since its last beat, added at its beat (ExecutionTracker#flush, 7.0+):
   * each job's class, and the milliseconds it ran or that it failed. Sidekiq 6.x keeps no metrics.
   */
  flushMetrics(jobs: readonly { class: string; ms?: number; failed?: boolean }[]): Promise<void>;
}

const jid = () => randomBytes(12).toString('hex');

/** Epoch time of a job as the version writes it: float seconds up to 7.x, integer milliseconds from 8.0. */
function stamp(version: SidekiqVersion, epochSeconds: number): number {
  return version === '8.0' || version === '8.1' ? Math.round(epochSeconds * 1000) : epochSeconds;
}

export async function redisEpochSeconds(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) + Number(us) / 1e6;
}

function capsulesOf(process: SidekiqProcess): Record<string, { concurrency: number; queues: string[] }> {
  if (process.capsules) return process.capsules;
  if (process.queues === undefined || process.concurrency === undefined)
    throw new Error('a Sidekiq process needs capsules, or queues and concurrency');
  return { default: { concurrency: process.concurrency, queues: process.queues } };
}

/** Capsule#weights: each queue with weight 0 when none was given (capsule.rb, `queues=`). */
const weightsOf = (queues: readonly string[]) => Object.fromEntries(queues.map((q) => [q, 0]));

/** Launcher#to_data as each version builds it; the JSON the process hash keeps in `info`. */
function infoOf(
  version: SidekiqVersion,
  identity: string,
  process: SidekiqProcess,
  startedAt: number,
): Record<string, unknown> {
  const capsules = capsulesOf(process);
  const total = Object.values(capsules).reduce((sum, c) => sum + c.concurrency, 0);
  const queues = [...new Set(Object.values(capsules).flatMap((c) => c.queues))];
  const weights = Object.values(capsules).map((c) => weightsOf(c.queues));
  const common = { hostname: process.hostname, started_at: startedAt, pid: 1, tag: 'app' };
  switch (version) {
    case '6.4': // v6.4.1 lib/sidekiq/launcher.rb:244-255
      return { ...common, concurrency: total, queues, labels: [], identity };
    case '7.3': // v7.3.9 lib/sidekiq/launcher.rb:247-261 (weights: to_weights, 263-265)
      return {
        ...common,
        concurrency: total,
        queues,
        weights,
        labels: [],
        identity,
        version: '7.3.9',
        embedded: false,
      };
    case '8.0': // v8.0.10 lib/sidekiq/launcher.rb:254-275; capsule.rb:41-43 (Capsule#to_h)
    case '8.1': {
      // v8.1.7 lib/sidekiq/launcher.rb:255-275: as 8.0 without "concurrency"
      const capsuleData = Object.fromEntries(
        Object.entries(capsules).map(([name, c]) => [
          name,
          { concurrency: c.concurrency, mode: 'strict', weights: weightsOf(c.queues) },
        ]),
      );
      return {
        ...common,
        ...(version === '8.0' ? { concurrency: total } : {}),
        capsules: capsuleData,
        queues,
        weights,
        labels: [],
        identity,
        version: version === '8.0' ? '8.0.10' : '8.1.7',
        embedded: false,
      };
    }
  }
}

export function sidekiqWriter(redis: Redis, version: SidekiqVersion, namespace?: string): SidekiqWriter {
  const keys = sidekiqKeys(namespace);
  const job = (queue: string, now: number, extra: Record<string, unknown> = {}) => ({
    class: 'HardWorker',
    args: [1, 'two'],
    retry: true,
    queue,
    jid: jid(),
    created_at: stamp(version, now),
    ...extra,
  });
  return {
    version,
    async push(queue, ageSeconds) {
      const now = await redisEpochSeconds(redis);
      const payload = job(queue, now - ageSeconds, { enqueued_at: stamp(version, now - ageSeconds) });
      await redis.multi().sadd(`${keys.ns}queues`, queue).lpush(keys.queue(queue), JSON.stringify(payload)).exec();
    },
    async schedule(queue, runInSeconds) {
      const now = await redisEpochSeconds(redis);
      await redis.zadd(keys.schedule, now + runInSeconds, JSON.stringify(job(queue, now)));
    },
    async retry(queue, retryInSeconds) {
      const now = await redisEpochSeconds(redis);
      const failed = job(queue, now - 120, {
        enqueued_at: stamp(version, now - 120),
        error_message: 'boom',
        error_class: 'RuntimeError',
        failed_at: stamp(version, now - 60),
        retry_count: 0,
      });
      await redis.zadd(keys.retry, now + retryInSeconds, JSON.stringify(failed));
    },
    async heartbeat(process) {
      const { hostname, busy, beatAgeSeconds = 0, quiet = false } = process;
      const now = await redisEpochSeconds(redis);
      const identity = `${hostname}:${1000 + Math.floor(Math.random() * 9000)}:${randomBytes(6).toString('hex')}`;
      const key = `${keys.ns}${identity}`;
      const info = infoOf(version, identity, process, now - 300);
      const queues = Object.values(capsulesOf(process)).flatMap((c) => c.queues);
      // The running jobs, one field per thread: <identity>:workers in 6.x (v6.4.1
      // launcher.rb:137-155), <identity>:work from 7.0 (v7.3.9 launcher.rb:152-159, v8.0.10 and
      // v8.1.7 159-166); each value is what Processor#stats keeps: queue, the job's JSON, run_at
      // in epoch seconds (v6.4.1 processor.rb:254, v7.3.9 278, v8.1.7 286).
      const queue = queues[0] ?? 'default';
      const running: Record<string, string> = {};
      for (let i = 0; i < busy; i++)
        running[`tid${i}`] = JSON.stringify({
          queue,
          payload: JSON.stringify(job(queue, now - 5)),
          run_at: Math.floor(now - 5),
        });
      const runningKey = `${key}:${version === '6.4' ? 'workers' : 'work'}`;
      const tx = redis.multi().unlink(runningKey);
      if (busy > 0) tx.hset(runningKey, running).expire(runningKey, 60);
      // The process hash: v6.4.1 launcher.rb:163-175 (HMSET, quiet a boolean redis-rb writes as
      // "true"/"false"); v7.3.9 launcher.rb:167-179 and v8.0.10 174-186 (HSET, quiet.to_s);
      // v8.1.7 launcher.rb:174-187, which adds "concurrency" (@config.total_concurrency, 179).
      const fields: Array<string | number> = ['info', JSON.stringify(info)];
      if (version === '8.1')
        fields.push(
          'concurrency',
          Object.values(capsulesOf(process)).reduce((s, c) => s + c.concurrency, 0),
        );
      fields.push('busy', busy, 'beat', now - beatAgeSeconds, 'rtt_us', 150, 'quiet', String(quiet), 'rss', 51200);
      await tx
        .sadd(keys.processes, identity)
        .hset(key, ...fields)
        .expire(key, 60)
        .exec();
      return identity;
    },
    async deadProcess(hostname) {
      await redis.sadd(keys.processes, `${hostname}:1:${randomBytes(6).toString('hex')}`);
    },
    async setProcessed(count) {
      await redis.set(keys.processed, count);
    },
    async flushMetrics(jobs) {
      if (version === '6.4') throw new Error('Sidekiq 6.x keeps no execution metrics');
      // Metrics::ExecutionTracker (metrics/tracking.rb): track counts "<class>|p" for every job,
      // "<class>|f" for one that raised and adds "<class>|ms" only for one that did not (v7.3.9
      // l. 20-50, track_time l. 103-109); flush adds them with HINCRBY to the minute's hash of
      // the process's clock in UTC, "j|%Y%m%d|%-H:%-M" kept 8 h in 7.x (l. 57-98), and from 8.0
      // to "j|%y%m%d|%-H:%M" kept 8 h and its ten-minute hash (the same less its last digit)
      // kept 3 days (v8.1.7 l. 54-100).
      const fields = new Map<string, number>();
      const add = (field: string, value: number) => fields.set(field, (fields.get(field) ?? 0) + value);
      for (const job of jobs) {
        add(`${job.class}|p`, 1);
        if (job.failed === true) add(`${job.class}|f`, 1);
        else add(`${job.class}|ms`, job.ms ?? 0);
      }
      const at = new Date((await redisEpochSeconds(redis)) * 1000);
      const date = `${String(at.getUTCMonth() + 1).padStart(2, '0')}${String(at.getUTCDate()).padStart(2, '0')}`;
      const minute = `${at.getUTCHours()}:${String(at.getUTCMinutes()).padStart(2, '0')}`;
      const buckets: [string, number][] =
        version === '7.3'
          ? [[`j|${at.getUTCFullYear()}${date}|${at.getUTCHours()}:${at.getUTCMinutes()}`, 8 * 3600]]
          : [
              [`j|${String(at.getUTCFullYear()).slice(-2)}${date}|${minute.slice(0, -1)}`, 3 * 24 * 3600],
              [`j|${String(at.getUTCFullYear()).slice(-2)}${date}|${minute}`, 8 * 3600],
            ];
      for (const [bucket, ttl] of buckets) {
        const tx = redis.multi();
        for (const [field, value] of fields) tx.hincrby(`${keys.ns}${bucket}`, field, value);
        await tx.expire(`${keys.ns}${bucket}`, ttl).exec();
      }
    },
  };
}
