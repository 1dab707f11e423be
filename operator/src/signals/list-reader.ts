import type { QueueSpec } from '../api/workerpool-schema.ts';
import type { QueueFormatReader, ReadContext } from './queue-reader.ts';
import type { QueueBacklog, QueueReading } from './queue-reading.ts';
import { redisCommand, type ReadCommand } from './read-command.ts';
import { SignalReadError } from './read-error.ts';
import { isRecord, parseJobJson, replyNumber, replyOptionalString } from './reply.ts';

// A plain Redis list, read as KEDA's redis scaler reads it: depth is LLEN. Latency is known only
// when items are JSON carrying their enqueue time; the oldest item sits at the right end by
// default (producers LPUSH, consumers RPOP).

const MS_PER_SECOND = 1000;

export const NO_TIMESTAMP_REASON =
  'list items carry no enqueue time: set queue.list.timestampField to the JSON field holding it; until then only depth is known and latency-based scaling is unavailable';

function timestampSettings(queue: QueueSpec) {
  const field = queue.list?.timestampField;
  return {
    field,
    unitMs: queue.list?.timestampUnit === 'seconds' ? MS_PER_SECOND : 1,
    oldestIndex: queue.list?.oldestAt === 'left' ? 0 : -1,
  };
}

function enqueuedAtMs(item: string, key: string, field: string, unitMs: number): number {
  const job = parseJobJson(item, key);
  const value = isRecord(job) ? job[field] : undefined;
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) {
    throw new SignalReadError('malformed-job', `key "${key}": the oldest item has no numeric "${field}" field`, {
      key,
    });
  }
  return n * unitMs;
}

export const listReader: QueueFormatReader = {
  format: 'list',
  perPodBusyUnavailable: 'a plain Redis list records no workers',

  plan(queue: QueueSpec): ReadCommand[] {
    const { field, oldestIndex } = timestampSettings(queue);
    return queue.names.flatMap((key) =>
      field === undefined
        ? [redisCommand('LLEN', [key], key)]
        : [redisCommand('LLEN', [key], key), redisCommand('LINDEX', [key, oldestIndex], key)],
    );
  },

  decode(queue: QueueSpec, replies: readonly unknown[], { nowMs }: ReadContext): QueueReading {
    const { field, unitMs } = timestampSettings(queue);
    const perQueue = field === undefined ? 1 : 2;
    const ageOf = (key: string, i: number): number | undefined => {
      if (field === undefined) return undefined;
      const item = replyOptionalString(replies[i * perQueue + 1], `LINDEX ${key}`);
      return item === undefined ? 0 : Math.max(0, nowMs - enqueuedAtMs(item, key, field, unitMs)) / MS_PER_SECOND;
    };
    const queues: QueueBacklog[] = queue.names.map((key, i) => ({
      name: key,
      depth: replyNumber(replies[i * perQueue], `LLEN ${key}`),
      oldestJobAgeSeconds: ageOf(key, i),
    }));
    const depth = queues.reduce((sum, q) => sum + q.depth, 0);
    const reading: QueueReading = {
      observedAtMs: nowMs,
      depth,
      dueScheduled: 0,
      oldestJobAgeSeconds: undefined,
      queues,
    };
    if (field === undefined) return { ...reading, latencyUnavailableReason: NO_TIMESTAMP_REASON };
    return { ...reading, oldestJobAgeSeconds: Math.max(0, ...queues.map((q) => q.oldestJobAgeSeconds ?? 0)) };
  },
};
