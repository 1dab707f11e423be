import type { Redis } from 'ioredis';
import { purgeDead, replayDead } from '../protocol/commands.ts';
import { decodeDeadInfo, type DeadReason } from '../protocol/dead-letter.ts';
import { decodeRecord, encodeRecord, type JobRecord } from '../protocol/job-record.ts';
import type { QueueKeys } from '../protocol/keys.ts';
import { replyArray, replyOptionalString, replyString } from '../protocol/reply.ts';

export interface DeadLetter {
  readonly id: string;
  /** Empty when the record itself is unreadable (a malformed job). */
  readonly name: string;
  readonly reason: DeadReason;
  readonly attempts: number;
  readonly lastError: string;
  readonly deadAt: number;
  readonly data: unknown;
  /** The raw record, for a malformed job that cannot be decoded. */
  readonly rawRecord: string | null;
}

/** All dead letters, or the named ones. */
export type DeadLetterSelection = 'all' | readonly string[];

const CHUNK = 500;

async function readDetails(
  redis: Redis,
  keys: QueueKeys,
  ids: readonly string[],
): Promise<{ infos: (string | null)[]; records: (string | null)[] }> {
  if (ids.length === 0) return { infos: [], records: [] };
  const [infos, records] = await Promise.all([redis.hmget(keys.deadInfo, ...ids), redis.hmget(keys.jobs, ...ids)]);
  return { infos, records };
}

function toDeadLetter(id: string, deadAt: number, info: string | null, raw: string | null): DeadLetter {
  const detail = decodeDeadInfo(info);
  let record: JobRecord | undefined;
  try {
    record = raw === null ? undefined : decodeRecord(raw);
  } catch {
    record = undefined;
  }
  return {
    id,
    name: record?.name ?? '',
    reason: detail.reason,
    attempts: detail.attempts,
    lastError: detail.lastError,
    deadAt: detail.deadAt || deadAt,
    data: record?.data,
    rawRecord: record ? null : raw,
  };
}

/** Dead letters, oldest first. */
export async function listDeadLetters(
  redis: Redis,
  keys: QueueKeys,
  { offset = 0, limit = 100 } = {},
): Promise<DeadLetter[]> {
  const flat = replyArray(
    await redis.zrange(keys.dead, String(offset), String(offset + limit - 1), 'WITHSCORES'),
    'ZRANGE dead',
  );
  const ids: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    ids.push(replyString(flat[i], 'dead id'));
    scores.push(Number(flat[i + 1]));
  }
  const { infos, records } = await readDetails(redis, keys, ids);
  return ids.map((id, i) => toDeadLetter(id, scores[i] ?? 0, infos[i] ?? null, records[i] ?? null));
}

export async function countDeadLetters(redis: Redis, keys: QueueKeys): Promise<number> {
  return redis.zcard(keys.dead);
}

/** Runs `each` over the selected ids in chunks; 'all' is the dead letters at the time of the call. */
async function forEachChunk(
  redis: Redis,
  keys: QueueKeys,
  selection: DeadLetterSelection,
  each: (ids: string[]) => Promise<number>,
): Promise<number> {
  const ids = selection === 'all' ? await redis.zrange(keys.dead, '0', '-1') : selection;
  let total = 0;
  for (let i = 0; i < ids.length; i += CHUNK) total += await each(ids.slice(i, i + CHUNK));
  return total;
}

export interface ReplayResult {
  readonly replayed: number;
  /** Dead letters whose record cannot be decoded stay dead: replaying them would only fail again. */
  readonly skippedMalformed: string[];
}

/** Puts dead letters back on the wait list with their attempt count reset. */
export async function replayDeadLetters(
  redis: Redis,
  keys: QueueKeys,
  selection: DeadLetterSelection,
): Promise<ReplayResult> {
  const skipped: string[] = [];
  const replayed = await forEachChunk(redis, keys, selection, async (ids) => {
    const raws = await redis.hmget(keys.jobs, ...ids);
    const jobs: { id: string; record: string }[] = [];
    ids.forEach((id, i) => {
      try {
        const record = decodeRecord(replyOptionalString(raws[i], 'record') ?? '');
        jobs.push({ id, record: encodeRecord({ ...record, attempt: 0, lastError: null }) });
      } catch {
        skipped.push(id);
      }
    });
    return replayDead(redis, keys, jobs);
  });
  return { replayed, skippedMalformed: skipped };
}

/** Deletes dead letters for good. */
export async function purgeDeadLetters(redis: Redis, keys: QueueKeys, selection: DeadLetterSelection): Promise<number> {
  return forEachChunk(redis, keys, selection, (ids) => purgeDead(redis, keys, ids));
}
