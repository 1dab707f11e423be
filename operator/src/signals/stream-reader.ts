import type { QueueSpec } from '../api/workerpool-schema.ts';
import { loadSignalScript } from './lua-script.ts';
import type { QueueFormatReader, ReadContext } from './queue-reader.ts';
import type { QueueBacklog, QueueReading } from './queue-reading.ts';
import { scriptCommand, type ReadCommand } from './read-command.ts';
import { SignalReadError } from './read-error.ts';
import { replyArray, replyNumber, replyString } from './reply.ts';

// A Redis stream read by a consumer group. Depth is the group's lag (entries not yet delivered);
// the oldest waiting entry is the first one after last-delivered-id, and since stream IDs start
// with their creation time in ms, its age needs no payload at all. The group counts what it has
// delivered (entries-read, Redis 7.0+); what it delivered and no longer holds pending was
// acknowledged, which a consumer does when it is done: the pool's own completion counter.

const STREAM_GROUP_SCRIPT = loadSignalScript('stream-group-1.lua');

/** How far the fallback count goes when Redis reports no lag; beyond it depth is a lower bound. */
export const LAG_COUNT_LIMIT = 10_000;
const MS_PER_SECOND = 1000;

interface GroupReply {
  status: string;
  lag: number;
  lagSource: string;
  pending: number;
  oldestId: string;
  /** Entries delivered and acknowledged since the group was created; undefined when Redis cannot tell. */
  acknowledged: number | undefined;
}

function parseGroupReply(reply: unknown, key: string): GroupReply {
  const [status, lag, lagSource, pending, oldestId, acknowledged] = replyArray(reply, `stream ${key}`);
  const acked = replyNumber(acknowledged, `stream ${key} acknowledged`);
  return {
    acknowledged: acked < 0 ? undefined : acked,
    status: replyString(status, `stream ${key} status`),
    lag: replyNumber(lag, `stream ${key} lag`),
    lagSource: replyString(lagSource, `stream ${key} lag source`),
    pending: replyNumber(pending, `stream ${key} pending`),
    oldestId: replyString(oldestId, `stream ${key} oldest id`),
  };
}

/** The creation time (ms) an entry ID starts with: `<ms>-<seq>`. */
export function streamIdMs(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** Seconds since an entry's creation; 0 when nothing waits. */
function ageSeconds(nowMs: number, atMs: number | undefined): number {
  return atMs === undefined ? 0 : Math.max(0, nowMs - atMs) / MS_PER_SECOND;
}

function consumerGroup(queue: QueueSpec): string {
  const group = queue.stream?.consumerGroup;
  if (group === undefined) throw new SignalReadError('invalid-spec', 'format stream needs queue.stream.consumerGroup');
  return group;
}

function lagNote(key: string, group: GroupReply): string | undefined {
  if (group.lagSource === 'counted')
    return `stream ${key}: Redis reports no lag (entries were deleted), so the ${group.lag} undelivered entries were counted`;
  if (group.lagSource === 'bounded')
    return `stream ${key}: Redis reports no lag (entries were deleted); counting stopped at ${LAG_COUNT_LIMIT}, so depth is at least that`;
  return undefined;
}

export const streamReader: QueueFormatReader = {
  format: 'stream',
  perPodBusyUnavailable: 'a stream consumer group names consumers, which need not be pods',

  plan(queue: QueueSpec): ReadCommand[] {
    const group = consumerGroup(queue);
    return queue.names.map((key) => scriptCommand(STREAM_GROUP_SCRIPT, [key], [group, LAG_COUNT_LIMIT]));
  },

  decode(queue: QueueSpec, replies: readonly unknown[], { nowMs }: ReadContext): QueueReading {
    const group = consumerGroup(queue);
    let depth = 0;
    let pending = 0;
    let oldestMs: number | undefined;
    let acknowledged: number | undefined = 0;
    const notes: string[] = [];
    const queues: QueueBacklog[] = [];
    queue.names.forEach((key, i) => {
      const reply = parseGroupReply(replies[i], key);
      if (reply.status === 'no-group') {
        throw new SignalReadError(
          'missing-consumer-group',
          `stream "${key}" has no consumer group "${group}": workers create it (XGROUP CREATE) before reading`,
          { key },
        );
      }
      depth += reply.lag;
      pending += reply.pending;
      // The pool's counter is the sum over its streams, only while every stream's is known.
      acknowledged =
        acknowledged === undefined || reply.acknowledged === undefined ? undefined : acknowledged + reply.acknowledged;
      const note = lagNote(key, reply);
      if (note !== undefined) notes.push(note);
      const at = reply.oldestId === '' ? undefined : streamIdMs(reply.oldestId);
      queues.push({ name: key, depth: reply.lag, oldestJobAgeSeconds: ageSeconds(nowMs, at) });
      if (at !== undefined) oldestMs = oldestMs === undefined ? at : Math.min(oldestMs, at);
    });
    return {
      observedAtMs: nowMs,
      depth,
      oldestJobAgeSeconds: ageSeconds(nowMs, oldestMs),
      dueScheduled: 0,
      // Delivered but not acknowledged: entries a consumer is working on (or lost with a dead one).
      busy: pending,
      ...(acknowledged === undefined ? {} : { completedTotal: acknowledged }),
      queues,
      ...(notes.length > 0 ? { notes } : {}),
    };
  },
};
