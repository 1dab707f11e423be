import type { QueueSpec } from '../api/workerpool-schema.ts';
import type { QueueFormatReader, ReadContext } from './queue-reader.ts';
import type { QueueBacklog, QueueReading } from './queue-reading.ts';
import { redisCommand, type ReadCommand } from './read-command.ts';
import { SignalReadError } from './read-error.ts';
import { decodeQueueHead, queueHeadCommand, type QueueHead, type QueueHeadOptions } from './queue-head.ts';
import { replyNumber } from './reply.ts';

// A plain Redis list, read as KEDA's redis scaler reads it: depth is LLEN. Latency is known only
// when items are JSON carrying their enqueue time; the oldest item sits at the right end by
// default (producers LPUSH, consumers RPOP), and its time is taken inside Redis (queue-head.ts).

const MS_PER_SECOND = 1000;

export const NO_TIMESTAMP_REASON =
  'list items carry no enqueue time: set queue.list.timestampField to the JSON field holding it; until then only depth is known and latency-based scaling is unavailable';

function headOptions(queue: QueueSpec): QueueHeadOptions | undefined {
  const field = queue.list?.timestampField;
  if (field === undefined) return undefined;
  return {
    field,
    msPerUnit: queue.list?.timestampUnit === 'seconds' ? MS_PER_SECOND : 1,
    index: queue.list?.oldestAt === 'left' ? 0 : -1,
  };
}

function ageOf(head: QueueHead, key: string, field: string, nowMs: number): number {
  if (head.head === 'empty') return 0;
  if (head.head === 'no-time')
    throw new SignalReadError('malformed-job', `key "${key}": the oldest item has no numeric "${field}" field`, {
      key,
    });
  return Math.max(0, nowMs - head.enqueuedAtMs) / MS_PER_SECOND;
}

export const listReader: QueueFormatReader = {
  format: 'list',
  perPodBusyUnavailable: 'a plain Redis list records no workers',

  plan(queue: QueueSpec): ReadCommand[] {
    const head = headOptions(queue);
    // With a timestamp field the oldest item's time is read inside Redis: numbers only come back.
    return queue.names.map((key) =>
      head === undefined ? redisCommand('LLEN', [key], key) : queueHeadCommand(key, head),
    );
  },

  decode(queue: QueueSpec, replies: readonly unknown[], { nowMs }: ReadContext): QueueReading {
    const head = headOptions(queue);
    const queues: QueueBacklog[] = queue.names.map((key, i) => {
      if (head === undefined)
        return { name: key, depth: replyNumber(replies[i], `LLEN ${key}`), oldestJobAgeSeconds: undefined };
      const read = decodeQueueHead(replies[i], key);
      return { name: key, depth: read.depth, oldestJobAgeSeconds: ageOf(read, key, head.field, nowMs) };
    });
    const depth = queues.reduce((sum, q) => sum + q.depth, 0);
    const reading: QueueReading = {
      observedAtMs: nowMs,
      depth,
      dueScheduled: 0,
      oldestJobAgeSeconds: undefined,
      queues,
    };
    if (head === undefined) return { ...reading, latencyUnavailableReason: NO_TIMESTAMP_REASON };
    return { ...reading, oldestJobAgeSeconds: Math.max(0, ...queues.map((q) => q.oldestJobAgeSeconds ?? 0)) };
  },
};
