import type { QueueSpec } from '../api/workerpool-schema.ts';
import { loadSignalScript } from './lua-script.ts';
import type { QueueFormatReader, ReadContext } from './queue-reader.ts';
import type { QueueBacklog, QueueCapacity, QueueReading, UpcomingScheduled } from './queue-reading.ts';
import { scriptCommand, type ReadCommand } from './read-command.ts';
import { replyArray, replyNumber } from './reply.ts';
import { combineUpcoming, decodeUpcoming, upcomingArgs } from './upcoming.ts';

// BullMQ v5 and v6 (keys as in BullMQ's src/classes/queue-keys.ts: `<prefix>:<queue>:<suffix>`).
// Waiting = wait + paused (v5 moves jobs there while paused) + prioritized, as getJobCounts
// counts them. Due delayed jobs are reported apart: only a running worker promotes them.
// BullMQ has no latency API; the age of the oldest waiting job is measured from when it became
// ready (its timestamp, plus its delay; its last attempt for a retried job) so that a job that
// waited out a delay does not look as old as its creation.

const QUEUE_SCRIPT = loadSignalScript('bullmq-queue-7.lua');
/** The counts bullmq-queue-7.lua replies before the delayed jobs coming due. */
const QUEUE_REPLY_COUNTS = 12;

export const DEFAULT_BULLMQ_PREFIX = 'bull';
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
    completedMetrics: `${base}metrics:completed`,
  };
}

interface QueueCounts {
  upcoming: UpcomingScheduled;
  nowMs: number;
  waiting: number;
  dueDelayed: number;
  active: number;
  paused: boolean;
  completed: number | undefined;
  readySinceMs: number | undefined;
  globalConcurrency: number | undefined;
  maxJobsPerSecond: number | undefined;
}

function parseQueueReply(reply: unknown, queue: string): QueueCounts {
  const n = replyArray(reply, `bullmq ${queue}`).map((v, i) => replyNumber(v, `bullmq ${queue} reply[${i + 1}]`));
  const upcoming = decodeUpcoming(n.slice(QUEUE_REPLY_COUNTS), false, `bullmq ${queue} delayed`);
  const [
    now = 0,
    wait = 0,
    paused = 0,
    prioritized = 0,
    dueDelayed = 0,
    active = 0,
    isPaused = 0,
    completed = -1,
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
    completed: completed < 0 ? undefined : completed,
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

export const bullmqReader: QueueFormatReader = {
  format: 'bullmq',
  perPodBusyUnavailable: 'BullMQ records the jobs in its active list, not which worker runs them',

  plan(queue: QueueSpec): ReadCommand[] {
    return queue.names.map((name) => {
      const k = bullmqKeys(queue.keyPrefix, name);
      return scriptCommand(
        QUEUE_SCRIPT,
        [k.wait, k.paused, k.prioritized, k.delayed, k.active, k.meta, k.completedMetrics],
        [k.jobPrefix, ...upcomingArgs()],
      );
    });
  },

  decode(queue: QueueSpec, replies: readonly unknown[], { nowMs }: ReadContext): QueueReading {
    const counts = queue.names.map((name, i) => parseQueueReply(replies[i], name));
    const readySince = counts.flatMap((c) => (c.readySinceMs === undefined ? [] : [c.readySinceMs]));
    const completed = counts.flatMap((c) => (c.completed === undefined ? [] : [c.completed]));
    const sum = (pick: (c: QueueCounts) => number) => counts.reduce((total, c) => total + pick(c), 0);
    const capacity = capacityOf(counts);
    return {
      observedAtMs: nowMs,
      depth: sum((c) => c.waiting),
      oldestJobAgeSeconds: readySince.length === 0 ? 0 : Math.max(0, nowMs - Math.min(...readySince)) / MS_PER_SECOND,
      dueScheduled: sum((c) => c.dueDelayed),
      upcoming: combineUpcoming(counts.map((c) => c.upcoming)),
      busy: sum((c) => c.active),
      // Only workers started with `metrics` keep a completion count; without it there is none.
      ...(completed.length > 0 ? { completedTotal: completed.reduce((a, b) => a + b, 0) } : {}),
      // A pool is paused only when every one of its queues is: then more replicas cannot help.
      ...(counts.every((c) => c.paused) ? { paused: true } : {}),
      ...(capacity === undefined ? {} : { capacity }),
      queues: queue.names.map((name, i) => backlogOf(name, counts[i], nowMs)),
    };
  },
};
