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
   * Durable adds for replicated Redis: an add resolves only once `replicas` replicas have the jobs
   * (Redis WAIT, up to `timeoutMs`, default 2,000), so a failover of the primary right after cannot
   * lose them. Otherwise the add rejects with DurabilityError: the jobs are on the primary, and a
   * retry with the same jobIds is safe. Costs a round trip per add (see bench:worker).
   */
  readonly durability?: Durability;
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

export interface Durability {
  /** Replicas that must have acknowledged the add (1 or more). */
  readonly replicas: number;
  /** How long to wait for them (ms, default 2,000; never 0, which would wait for ever). */
  readonly timeoutMs?: number;
}

const DEFAULT_DURABILITY_TIMEOUT_MS = 2_000;

/** The jobs were added on the primary, but fewer replicas than asked for acknowledged them in time. */
export class DurabilityError extends Error {
  override readonly name = 'DurabilityError';
  /** The ids of the jobs of this add (retrying with them is idempotent). */
  readonly ids: readonly string[];
  readonly acknowledged: number;

  constructor(message: string, ids: readonly string[], acknowledged: number) {
    super(message);
    this.ids = ids;
    this.acknowledged = acknowledged;
  }
}

function resolveDurability(durability: Durability | undefined): Required<Durability> | undefined {
  if (durability === undefined) return undefined;
  const { replicas, timeoutMs = DEFAULT_DURABILITY_TIMEOUT_MS } = durability;
  if (!Number.isInteger(replicas) || replicas < 1)
    throw new Error(`queue option durability.replicas must be an integer >= 1, got ${String(replicas)}`);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new Error(`queue option durability.timeoutMs must be an integer >= 1, got ${String(timeoutMs)}`);
  return { replicas, timeoutMs };
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
  private readonly durability: Required<Durability> | undefined;

  constructor(name: string, options: QueueOptions) {
    this.name = name;
    this.keys = queueKeys(options.prefix ?? DEFAULT_KEY_PREFIX, name);
    const { redis, owned } = openConnection(options.connection);
    this.redis = redis;
    this.ownsRedis = owned;
    this.defaults = resolveJobOptions(options.defaultJobOptions ?? {}, DEFAULT_JOB_OPTIONS, 'defaultJobOptions');
    this.now = options.now ?? Date.now;
    this.durability = resolveDurability(options.durability);
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
    if (this.durability) await this.awaitReplicas(prepared.map((job) => job.id));
    return replies.flat().map((added, i) => ({ id: prepared[i]?.id ?? '', added }));
  }

  /** WAIT covers every write this connection made before it: these adds (and any before them). */
  private async awaitReplicas(ids: readonly string[]): Promise<void> {
    const { replicas, timeoutMs } = this.durability ?? { replicas: 0, timeoutMs: 0 };
    const acknowledged = Number(await this.redis.call('WAIT', replicas, timeoutMs));
    if (acknowledged >= replicas) return;
    throw new DurabilityError(
      `durable add: ${acknowledged} of ${replicas} replica(s) acknowledged the jobs within ${timeoutMs} ms; ` +
        'they are on the primary but would be lost if it failed now (retrying with the same jobIds is safe)',
      ids,
      acknowledged,
    );
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
