import { COUNTER_FIELDS, DEFAULT_KEY_PREFIX, queueKeys } from '@workerpool/worker-runtime/protocol';
import type { Redis } from 'ioredis';
import type { QueueFormat } from '../api/workerpool-schema.ts';
import { bullmqKeys } from '../signals/bullmq-reader.ts';
import { isRecord } from '../signals/reply.ts';
import { sidekiqKeys, sidekiqTimeToMs } from '../signals/sidekiq-reader.ts';
import { streamIdMs } from '../signals/stream-reader.ts';

// How `record` learns when jobs arrived, one source per queue format: each format is read for
// what it really keeps. Some keep every arrival with its time (a stream's entry IDs, BullMQ's
// events stream), some keep a count that arrivals can be derived from exactly (native), some
// keep the enqueue time only while the job waits (Sidekiq), and a plain list keeps nothing but
// its length. Each source says which, and the trace says it too.

/** What one poll learned since the previous one. */
export interface ArrivalPoll {
  /** Arrivals with their own enqueue time (epoch ms). */
  timedMs: number[];
  /** Arrivals counted exactly, somewhere within the interval since the previous poll. */
  counted: number;
  /** Arrivals estimated, somewhere within that interval. */
  estimated: number;
  /**
   * Log entries (a stream's, BullMQ's events) trimmed away before this poll could read them: the
   * arrivals among them are counted or estimated instead of timed, and the trace says so.
   */
  trimmed: number;
}

export interface ArrivalSource {
  /** How the arrivals are known, for the trace's header and the console. */
  method: string;
  /** The first call only takes its bearings: what was there before the recording is not an arrival. */
  poll(): Promise<ArrivalPoll>;
}

export interface SourceOptions {
  redis: Redis;
  queue: string;
  /** native / bullmq key prefix, or Sidekiq 6's redis-namespace. */
  keyPrefix?: string;
}

const nothing = (): ArrivalPoll => ({ timedMs: [], counted: 0, estimated: 0, trimmed: 0 });
const XRANGE_BATCH = 1000;

/** Entries of a stream after `afterId` up to `untilId`, in order, read in batches. */
async function entriesBetween(
  redis: Redis,
  key: string,
  afterId: string,
  untilId: string,
): Promise<[string, string[]][]> {
  const entries: [string, string[]][] = [];
  let last = afterId;
  for (;;) {
    const batch = (await redis.xrange(key, `(${last}`, untilId, 'COUNT', XRANGE_BATCH)) as [string, string[]][];
    entries.push(...batch);
    if (batch.length < XRANGE_BATCH) return entries;
    last = (batch[batch.length - 1] as [string, string[]])[0];
  }
}

interface StreamPosition {
  /** The newest ID the stream ever gave an entry. */
  lastId: string;
  /** How many entries were ever added (Redis 7+: XINFO STREAM entries-added), trimmed ones included. */
  added: number | undefined;
}

/** Where a stream stands now, or undefined while it does not exist (never written, or deleted). */
async function streamPosition(redis: Redis, key: string): Promise<StreamPosition | undefined> {
  let reply: unknown;
  try {
    reply = await redis.xinfo('STREAM', key);
  } catch (error) {
    if (/no such key/i.test(String(error))) return undefined;
    throw error;
  }
  const fields = Array.isArray(reply) ? (reply as unknown[]) : [];
  const field = (name: string) => fields[fields.indexOf(name) + 1];
  const [lastId, added] = [field('last-generated-id'), field('entries-added')];
  return {
    lastId: typeof lastId === 'string' ? lastId : '0-0',
    added: typeof added === 'number' ? added : undefined,
  };
}

/**
 * Entries of a stream as they are added: each entry's ID carries the ms it was added. A stream
 * capped by MAXLEN can trim entries before a poll reads them; Redis 7's entries-added counter
 * says how many, and `onTrimmed` turns them into counted or estimated arrivals.
 */
function streamEntries(
  redis: Redis,
  key: string,
  keep: (fields: string[]) => boolean,
  onTrimmed: (trimmed: number, keptShare: number | undefined) => Pick<ArrivalPoll, 'counted' | 'estimated'>,
  method: string,
): ArrivalSource {
  let position: StreamPosition | undefined;
  const seen = { read: 0, kept: 0 };
  return {
    method,
    async poll() {
      // A stream that does not exist yet has had nothing added: its first entries are arrivals.
      const now = (await streamPosition(redis, key)) ?? { lastId: '0-0', added: 0 };
      if (position === undefined) {
        position = now;
        return nothing();
      }
      const entries = await entriesBetween(redis, key, position.lastId, now.lastId);
      const timedMs = entries.filter(([, fields]) => keep(fields)).map(([id]) => streamIdMs(id));
      seen.read += entries.length;
      seen.kept += timedMs.length;
      const trimmed =
        now.added !== undefined && position.added !== undefined
          ? Math.max(0, now.added - position.added - entries.length)
          : 0;
      position = now;
      if (trimmed === 0) return { ...nothing(), timedMs };
      return {
        ...nothing(),
        timedMs,
        ...onTrimmed(trimmed, seen.read > 0 ? seen.kept / seen.read : undefined),
        trimmed,
      };
    },
  };
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let index = 0; index + 1 < fields.length; index += 2) if (fields[index] === name) return fields[index + 1];
  return undefined;
}

function streamSource({ redis, queue }: SourceOptions): ArrivalSource {
  return streamEntries(
    redis,
    queue,
    () => true,
    // Every entry is a job: the trimmed ones are counted exactly, their times lost within the poll.
    (trimmed) => ({ counted: trimmed, estimated: 0 }),
    'exact: each stream entry ID carries the time it was added',
  );
}

/** BullMQ writes an `added` event for every job it stores (storeJob.lua), whatever its state. */
function bullmqSource({ redis, queue, keyPrefix }: SourceOptions): ArrivalSource {
  const events = `${bullmqKeys(keyPrefix, queue).jobPrefix}events`;
  return streamEntries(
    redis,
    events,
    (fields) => fieldOf(fields, 'event') === 'added',
    // A trimmed event's kind is lost: the added ones among them are estimated from the share of
    // "added" in the events read so far (all of them, before any was read: an upper bound).
    (trimmed, addedShare) => ({ counted: 0, estimated: Math.round(trimmed * (addedShare ?? 1)) }),
    'exact: the "added" events of the queue\'s events stream (kept up to its maxLenEvents, 10,000 by default)',
  );
}

/**
 * Every native job keeps its record in the jobs hash until it completes, when the queue's
 * `completed` counter counts it: records + completed grows by exactly the jobs added.
 */
function nativeSource({ redis, queue, keyPrefix }: SourceOptions): ArrivalSource {
  const keys = queueKeys(keyPrefix ?? DEFAULT_KEY_PREFIX, queue);
  let previous: number | undefined;
  const total = async () => {
    // A record leaves the jobs hash completed, or as a dead letter discarded (purged or past its retention).
    const [records, [completed, discarded]] = await Promise.all([
      redis.hlen(keys.jobs),
      redis.hmget(keys.counters, COUNTER_FIELDS.completed, COUNTER_FIELDS.discarded),
    ]);
    return records + Number(completed ?? 0) + Number(discarded ?? 0);
  };
  return {
    method: 'exact counts per poll: job records plus the completed and discarded counters',
    async poll() {
      const now = await total();
      const added = previous === undefined ? 0 : Math.max(0, now - previous);
      previous = now;
      return { ...nothing(), counted: added };
    },
  };
}

const SIDEKIQ_BATCH = 500;

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Sidekiq LPUSHes jobs carrying `enqueued_at`; the newest are at the head. New jobs are read from
 * the head until one seen before. A job that a busy Sidekiq takes within one poll of its push is
 * never seen: Sidekiq keeps no log of pushes.
 */
function sidekiqSource({ redis, queue, keyPrefix }: SourceOptions): ArrivalSource {
  const key = sidekiqKeys(keyPrefix).queue(queue);
  let seen: Set<string> | undefined;
  const readNew = async (known: Set<string>) => {
    const fresh: { jid: string; atMs: number }[] = [];
    for (let start = 0; ; start += SIDEKIQ_BATCH) {
      const items = await redis.lrange(key, start, start + SIDEKIQ_BATCH - 1);
      for (const item of items) {
        const job = parseOrUndefined(item);
        const jid = isRecord(job) && typeof job['jid'] === 'string' ? job['jid'] : item;
        if (known.has(jid)) return fresh;
        const enqueued = isRecord(job) && typeof job['enqueued_at'] === 'number' ? job['enqueued_at'] : undefined;
        fresh.push({ jid, atMs: enqueued === undefined ? Date.now() : sidekiqTimeToMs(enqueued) });
      }
      if (items.length < SIDEKIQ_BATCH) return fresh;
    }
  };
  return {
    method: 'exact for jobs still waiting at the next poll (their enqueued_at); jobs started sooner are not seen',
    async poll() {
      const fresh = await readNew(seen ?? new Set());
      const first = seen === undefined;
      // Only the head matters next time: the newest jids read are enough to stop at.
      seen = new Set([...fresh.map((job) => job.jid), ...(seen ?? [])].slice(0, SIDEKIQ_BATCH));
      return first ? nothing() : { ...nothing(), timedMs: fresh.map((job) => job.atMs) };
    },
  };
}

/** A plain list keeps no arrivals and no completions: only a growing length shows them. */
function listSource({ redis, queue }: SourceOptions): ArrivalSource {
  let previous: number | undefined;
  return {
    method:
      'estimated from the list length: a lower bound while consumers run (an item pushed and taken between polls is not seen)',
    async poll() {
      const length = await redis.llen(queue);
      const grown = previous === undefined ? 0 : Math.max(0, length - previous);
      previous = length;
      return { ...nothing(), estimated: grown };
    },
  };
}

const SOURCES: Record<QueueFormat, (options: SourceOptions) => ArrivalSource> = {
  native: nativeSource,
  sidekiq: sidekiqSource,
  bullmq: bullmqSource,
  list: listSource,
  stream: streamSource,
};

export function arrivalSource(format: QueueFormat, options: SourceOptions): ArrivalSource {
  return SOURCES[format](options);
}
