import type { QueueSpec } from '../api/workerpool-schema.ts';
import { loadSignalScript } from './lua-script.ts';
import type { QueueFormatReader, ReadContext } from './queue-reader.ts';
import type { QueueBacklog, QueueCapacity, QueueReading, UpcomingScheduled } from './queue-reading.ts';
import { scriptCommand, type ReadCommand, type ScriptCommand } from './read-command.ts';
import { replyArray, replyNumber, replyString } from './reply.ts';
import { combineUpcoming, decodeUpcoming, upcomingArgs } from './upcoming.ts';

// BullMQ v5 and v6 (keys as in BullMQ's src/classes/queue-keys.ts: `<prefix>:<queue>:<suffix>`).
// Waiting = wait + paused (v5 moves jobs there while paused) + prioritized, as getJobCounts
// counts them. Due delayed jobs are reported apart: only a running worker promotes them.
// BullMQ has no latency API; the age of the oldest waiting job is measured from when it became
// ready (its timestamp, plus its delay; its last attempt for a retried job) so that a job that
// waited out a delay does not look as old as its creation.

const QUEUE_SCRIPT = loadSignalScript('bullmq-queue-7.lua');
/** The counts bullmq-queue-7.lua replies before the delayed jobs coming due. */
const QUEUE_REPLY_COUNTS = 11;

export const DEFAULT_BULLMQ_PREFIX = 'bull';
/**
 * Most events entries read per queue and poll. BullMQ writes about four per job (added or
 * waiting, active, completed, drained), so this follows some 5,000 jobs per poll; beyond it
 * the count catches up at the next polls, unless the stream (10,000 entries by default,
 * opts.maxLenEvents) is trimmed past where the last poll stopped.
 */
export const EVENTS_READ_LIMIT = 20_000;
const MS_PER_SECOND = 1000;

/** The keys of one queue, named as BullMQ names them. */
export function bullmqKeys(prefix: string | undefined, queue: string) {
  const base = `${prefix === undefined || prefix === '' ? DEFAULT_BULLMQ_PREFIX : prefix}:${queue}:`;
  return {
    jobPrefix: base,
    wait: `${base}wait`,
    paused: `${base}paused`,
    prioritized: `${base}prioritized`,
    delayed: `${base}delayed`,
    active: `${base}active`,
    meta: `${base}meta`,
    events: `${base}events`,
  };
}

interface QueueCounts {
  upcoming: UpcomingScheduled;
  nowMs: number;
  waiting: number;
  dueDelayed: number;
  active: number;
  paused: boolean;
  readySinceMs: number | undefined;
  globalConcurrency: number | undefined;
  maxJobsPerSecond: number | undefined;
}

/** Jobs that finished since the previous poll, from the events stream, and where to go on from. */
interface FinishedEvents {
  finished: number;
  cursor: string;
  /** The stream no longer holds where the previous poll stopped: events in between were lost. */
  gap: boolean;
}

const EVENTS_REPLY_FIELDS = 3;

function splitQueueReply(reply: unknown, queue: string): { counts: unknown[]; events: FinishedEvents } {
  const all = replyArray(reply, `bullmq ${queue}`);
  const counts = all.slice(0, all.length - EVENTS_REPLY_FIELDS);
  const [finished, cursor, gap] = all.slice(all.length - EVENTS_REPLY_FIELDS);
  return {
    counts,
    events: {
      finished: replyNumber(finished, `bullmq ${queue} finished`),
      cursor: replyString(cursor, `bullmq ${queue} events cursor`),
      gap: replyNumber(gap, `bullmq ${queue} events gap`) === 1,
    },
  };
}

function parseQueueReply(reply: unknown, queue: string): QueueCounts {
  const n = splitQueueReply(reply, queue).counts.map((v, i) => replyNumber(v, `bullmq ${queue} reply[${i + 1}]`));
  const upcoming = decodeUpcoming(n.slice(QUEUE_REPLY_COUNTS), false, `bullmq ${queue} delayed`);
  const [
    now = 0,
    wait = 0,
    paused = 0,
    prioritized = 0,
    dueDelayed = 0,
    active = 0,
    isPaused = 0,
    readySince = -1,
    globalConcurrency = -1,
    rateMax = -1,
    rateDurationMs = -1,
  ] = n;
  return {
    upcoming,
    nowMs: now,
    waiting: wait + paused + prioritized,
    dueDelayed,
    active,
    paused: isPaused === 1,
    readySinceMs: readySince < 0 ? undefined : readySince,
    globalConcurrency: globalConcurrency < 0 ? undefined : globalConcurrency,
    maxJobsPerSecond: rateMax < 0 || rateDurationMs <= 0 ? undefined : (rateMax * MS_PER_SECOND) / rateDurationMs,
  };
}

/** A limit of the pool's queues together: the sum, when every queue has one; else none. */
function sumOfLimits(values: readonly (number | undefined)[]): number | undefined {
  if (values.length === 0 || values.some((value) => value === undefined)) return undefined;
  return values.reduce<number>((total, value) => total + (value as number), 0);
}

function capacityOf(counts: readonly QueueCounts[]): QueueCapacity | undefined {
  const maxActiveJobs = sumOfLimits(counts.map((c) => c.globalConcurrency));
  const maxJobsPerSecond = sumOfLimits(counts.map((c) => c.maxJobsPerSecond));
  if (maxActiveJobs === undefined && maxJobsPerSecond === undefined) return undefined;
  return {
    ...(maxActiveJobs === undefined ? {} : { maxActiveJobs }),
    ...(maxJobsPerSecond === undefined ? {} : { maxJobsPerSecond }),
  };
}

function backlogOf(name: string, c: QueueCounts | undefined, nowMs: number): QueueBacklog {
  const readySince = c?.readySinceMs;
  return {
    name,
    depth: c?.waiting ?? 0,
    oldestJobAgeSeconds: readySince === undefined ? 0 : Math.max(0, nowMs - readySince) / MS_PER_SECOND,
    ...(c?.paused === true ? { paused: true } : {}),
  };
}

/**
 * What the reader keeps between polls: where each queue's events stream was read up to, and the
 * jobs counted finished since the pool was registered (its completedTotal).
 */
interface EventsMemory {
  readonly cursors: readonly string[];
  readonly finished: number;
  /** False after a gap: the count of that poll was partial, so no reading carries a counter until the next. */
  readonly whole: boolean;
}

function eventsMemory(memory: unknown, queues: number): EventsMemory | undefined {
  if (typeof memory !== 'object' || memory === null) return undefined;
  const { cursors, finished, whole } = memory as Partial<EventsMemory>;
  if (!Array.isArray(cursors) || cursors.length !== queues || typeof finished !== 'number') return undefined;
  return { cursors, finished, whole: whole === true };
}

/** The memory after this poll, and whether its count is whole (a first poll counts nothing, a gap loses events). */
function nextEvents(queue: QueueSpec, replies: readonly unknown[], memory: unknown): EventsMemory {
  const previous = eventsMemory(memory, queue.names.length);
  const events = queue.names.map((name, i) => splitQueueReply(replies[i], name).events);
  const next: EventsMemory = {
    cursors: events.map((e) => e.cursor),
    finished: (previous?.finished ?? 0) + events.reduce((sum, e) => sum + e.finished, 0),
    whole: previous !== undefined && events.every((e) => !e.gap),
  };
  // Nothing new: the same memory, so that the poller keeps the plan it made from it.
  const unchanged =
    previous !== undefined &&
    previous.finished === next.finished &&
    previous.whole === next.whole &&
    previous.cursors.every((cursor, i) => cursor === next.cursors[i]);
  return unchanged && typeof memory === 'object' && memory !== null ? (memory as EventsMemory) : next;
}

/**
 * Each queue's script call without the events cursor, built once per registered spec: the plan
 * is made again before every poll, for every pool, and only the cursor changes.
 */
const FIXED_CALLS = new WeakMap<QueueSpec, readonly ScriptCommand[]>();

function fixedCalls(queue: QueueSpec): readonly ScriptCommand[] {
  let calls = FIXED_CALLS.get(queue);
  if (calls === undefined) {
    calls = queue.names.map((name) => {
      const k = bullmqKeys(queue.keyPrefix, name);
      return scriptCommand(
        QUEUE_SCRIPT,
        [k.wait, k.paused, k.prioritized, k.delayed, k.active, k.meta, k.events],
        [k.jobPrefix, ...upcomingArgs()],
      );
    });
    FIXED_CALLS.set(queue, calls);
  }
  return calls;
}

export const bullmqReader: QueueFormatReader = {
  format: 'bullmq',
  perPodBusyUnavailable: 'BullMQ records the jobs in its active list, not which worker runs them',

  plan(queue: QueueSpec, memory?: unknown): ReadCommand[] {
    const cursors = eventsMemory(memory, queue.names.length)?.cursors;
    return fixedCalls(queue).map((call, i) => ({
      ...call,
      args: [...call.args, cursors?.[i] ?? '', EVENTS_READ_LIMIT],
    }));
  },

  remember(queue: QueueSpec, replies: readonly unknown[], { memory }: ReadContext): EventsMemory {
    return nextEvents(queue, replies, memory);
  },

  decode(queue: QueueSpec, replies: readonly unknown[], { nowMs, memory }: ReadContext): QueueReading {
    const counts = queue.names.map((name, i) => parseQueueReply(replies[i], name));
    const readySince = counts.flatMap((c) => (c.readySinceMs === undefined ? [] : [c.readySinceMs]));
    // Jobs finished since the pool was registered, from the events every BullMQ writes (workers
    // keep metrics:completed only when started with `metrics`, and it leaves failed jobs out).
    const events = nextEvents(queue, replies, memory);
    const completed = events.whole ? events.finished : undefined;
    const sum = (pick: (c: QueueCounts) => number) => counts.reduce((total, c) => total + pick(c), 0);
    const capacity = capacityOf(counts);
    return {
      observedAtMs: nowMs,
      depth: sum((c) => c.waiting),
      oldestJobAgeSeconds: readySince.length === 0 ? 0 : Math.max(0, nowMs - Math.min(...readySince)) / MS_PER_SECOND,
      dueScheduled: sum((c) => c.dueDelayed),
      upcoming: combineUpcoming(counts.map((c) => c.upcoming)),
      busy: sum((c) => c.active),
      ...(completed === undefined ? {} : { completedTotal: completed }),
      // A pool is paused only when every one of its queues is: then more replicas cannot help.
      ...(counts.every((c) => c.paused) ? { paused: true } : {}),
      ...(capacity === undefined ? {} : { capacity }),
      queues: queue.names.map((name, i) => backlogOf(name, counts[i], nowMs)),
    };
  },
};
