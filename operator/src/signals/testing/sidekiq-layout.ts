import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sidekiqKeys } from '../sidekiq-reader.ts';

// Writes data exactly as Sidekiq itself lays it out (lib/sidekiq/client.rb, scheduled.rb,
// job_retry.rb, launcher.rb), so that the reader is tested against the real layout.

export type SidekiqVersion = '6' | '7' | '8';

export interface SidekiqWriter {
  /** Sidekiq::Client#push of a job enqueued `ageSeconds` ago (LPUSH, so the oldest is at -1). */
  push(queue: string, ageSeconds: number): Promise<void>;
  /** perform_in: a job in the schedule ZSET scored by its run time (epoch seconds). */
  schedule(queue: string, runInSeconds: number): Promise<void>;
  /** A failed job waiting in the retry ZSET for its next attempt. */
  retry(queue: string, retryInSeconds: number): Promise<void>;
  /** A process heartbeat (Launcher#❤), its hash expiring after 60 s as Sidekiq's does. */
  heartbeat(process: {
    hostname: string;
    queues: string[];
    concurrency: number;
    busy: number;
    beatAgeSeconds?: number;
    quiet?: boolean;
  }): Promise<string>;
  /** A process still in the SET whose heartbeat hash has expired (a process that died). */
  deadProcess(hostname: string): Promise<void>;
  setProcessed(count: number): Promise<void>;
}

const jid = () => randomBytes(12).toString('hex');

/** Epoch time as the version writes it: float seconds up to 7.x, integer milliseconds from 8.0. */
function stamp(version: SidekiqVersion, epochSeconds: number): number {
  return version === '8' ? Math.round(epochSeconds * 1000) : epochSeconds;
}

export async function redisEpochSeconds(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) + Number(us) / 1e6;
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
    async heartbeat({ hostname, queues, concurrency, busy, beatAgeSeconds = 0, quiet = false }) {
      const now = await redisEpochSeconds(redis);
      const identity = `${hostname}:${1000 + Math.floor(Math.random() * 9000)}:${randomBytes(6).toString('hex')}`;
      const info = {
        hostname,
        started_at: now - 300,
        pid: 1,
        tag: 'app',
        concurrency,
        queues,
        labels: [],
        identity,
        ...(version === '6' ? {} : { weights: [], version: `${version}.0.0`, embedded: false }),
      };
      await redis
        .multi()
        .sadd(keys.processes, identity)
        .hset(
          `${keys.ns}${identity}`,
          'info',
          JSON.stringify(info),
          'busy',
          busy,
          'beat',
          now - beatAgeSeconds,
          'rtt_us',
          150,
          'quiet',
          String(quiet),
          'rss',
          51200,
        )
        .expire(`${keys.ns}${identity}`, 60)
        .exec();
      return identity;
    },
    async deadProcess(hostname) {
      await redis.sadd(keys.processes, `${hostname}:1:${randomBytes(6).toString('hex')}`);
    },
    async setProcessed(count) {
      await redis.set(keys.processed, count);
    },
  };
}
