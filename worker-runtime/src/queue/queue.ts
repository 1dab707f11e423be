import type { Redis } from 'ioredis';
import { addJobs, type NewJob } from '../protocol/commands.ts';
import { encodeRecord, type JobRecord } from '../protocol/job-record.ts';
import { DEFAULT_KEY_PREFIX, queueKeys, type QueueKeys } from '../protocol/keys.ts';
import { openConnection, type Connection } from '../redis/connection.ts';
import { generateJobId } from './job-id.ts';
import { DEFAULT_JOB_OPTIONS, resolveJobOptions, type JobOptions, type ResolvedJobOptions } from './job-options.ts';

export interface QueueOptions {
  readonly connection: Connection;
  readonly prefix?: string;
  /** Defaults for every add (each add may override them). */
  readonly defaultJobOptions?: JobOptions;
  /**
   * The clock of the record's informational `enqueuedAt` (epoch ms). When a job is ready or due is
   * Redis's clock, never this one.
   */
  readonly now?: () => number;
}

export interface AddResult {
  readonly id: string;
  /** False when a job with this id already existed (the add was a no-op). */
  readonly added: boolean;
}

export interface BulkJob {
  readonly name: string;
  readonly data: unknown;
  readonly opts?: JobOptions;
}

/** Script calls are chunked so that a huge addBulk neither blocks Redis long nor overflows Lua's unpack. */
const ADD_CHUNK = 500;

/** The producer side of one queue. */
export class Queue {
  readonly name: string;
  readonly keys: QueueKeys;
  private readonly redis: Redis;
  private readonly ownsRedis: boolean;
  private readonly defaults: ResolvedJobOptions;
  private readonly now: () => number;

  constructor(name: string, options: QueueOptions) {
    this.name = name;
    this.keys = queueKeys(options.prefix ?? DEFAULT_KEY_PREFIX, name);
    const { redis, owned } = openConnection(options.connection);
    this.redis = redis;
    this.ownsRedis = owned;
    this.defaults = resolveJobOptions(options.defaultJobOptions ?? {}, DEFAULT_JOB_OPTIONS, 'defaultJobOptions');
    this.now = options.now ?? Date.now;
  }

  async add(name: string, data: unknown, opts: JobOptions = {}): Promise<AddResult> {
    const [result] = await this.addBulk([{ name, data, opts }]);
    if (!result) throw new Error('add-3.lua replied with no result');
    return result;
  }

  async addBulk(jobs: readonly BulkJob[]): Promise<AddResult[]> {
    const now = this.now();
    const prepared = jobs.map((job, i) =>
      this.prepare(job, now, jobs.length === 1 ? `queue.add("${job.name}") opts` : `addBulk[${i}].opts`),
    );
    const chunks: NewJob[][] = [];
    for (let i = 0; i < prepared.length; i += ADD_CHUNK) chunks.push(prepared.slice(i, i + ADD_CHUNK));
    // Sent together: ioredis writes them back to back, so a bulk add costs about one round trip.
    const replies = await Promise.all(chunks.map((chunk) => addJobs(this.redis, this.keys, chunk)));
    return replies.flat().map((added, i) => ({ id: prepared[i]?.id ?? '', added }));
  }

  /** Closes the connection if the queue created it. */
  async close(): Promise<void> {
    if (this.ownsRedis) await this.redis.quit();
  }

  private prepare(job: BulkJob, now: number, where: string): NewJob {
    if (typeof job.name !== 'string' || job.name.length === 0)
      throw new Error(`${where.replace(/ opts$|\.opts$/, '')}: job name must be a non-empty string`);
    const opts = resolveJobOptions(job.opts ?? {}, this.defaults, where);
    const id = opts.jobId ?? generateJobId();
    const record: JobRecord = {
      v: 1,
      id,
      name: job.name,
      data: job.data,
      enqueuedAt: now,
      attempts: opts.attempts,
      attempt: 0,
      backoff: opts.backoff,
      timeoutMs: opts.timeoutMs,
      lastError: null,
    };
    return { id, record: encodeRecord(record), delayMs: opts.delayMs };
  }
}
