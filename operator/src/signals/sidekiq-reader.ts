import type { QueueSpec } from '../api/workerpool-schema.ts';
import { loadSignalScript } from './lua-script.ts';
import type { QueueFormatReader, ReadContext } from './queue-reader.ts';
import type { QueueReading, WorkerHeartbeat } from './queue-reading.ts';
import { redisCommand, scriptCommand, type ReadCommand } from './read-command.ts';
import { decodeUpcoming, upcomingArgs } from './upcoming.ts';
import { isRecord, parseJobJson, replyArray, replyNumber, replyOptionalString, replyString } from './reply.ts';

// Sidekiq 6.x, 7.x and 8.x, read the way Sidekiq's own API (lib/sidekiq/api.rb) reads them:
// - queue:<q> is a LIST the client LPUSHes to, so the oldest job is LINDEX -1, and
//   Queue#latency = now - enqueued_at of that job (0 when the queue is empty or the field absent);
// - schedule and retry are ZSETs scored by run time in epoch seconds;
// - processes is a SET of identities whose heartbeat hashes (60 s TTL) hold busy, beat, quiet, info.
// Sidekiq 6 apps using redis-namespace prefix every key with "<ns>:" (queue.keyPrefix).

const DUE_SCRIPT = loadSignalScript('sidekiq-due-2.lua');
const PROCESSES_SCRIPT = loadSignalScript('sidekiq-processes-1.lua');

/** Most due schedule/retry jobs decoded per set and poll; beyond it the count is a lower bound. */
export const DUE_SCAN_LIMIT = 1000;
/** Sidekiq's heartbeat TTL: a process that has not beaten for this long is gone. */
export const HEARTBEAT_TTL_SECONDS = 60;
/**
 * enqueued_at above this is epoch milliseconds (Sidekiq 8), below it epoch seconds (6.x, 7.x).
 * 1e11 s is the year 5138; 1e11 ms is 1973: no real timestamp is ambiguous.
 */
export const EPOCH_MS_THRESHOLD = 1e11;
const MS_PER_SECOND = 1000;
const PROCESS_FIELDS = 5;

/** Every key the reader touches, under an optional redis-namespace. */
export function sidekiqKeys(keyPrefix: string | undefined) {
  const ns = keyPrefix === undefined || keyPrefix === '' ? '' : keyPrefix.endsWith(':') ? keyPrefix : `${keyPrefix}:`;
  return {
    ns,
    queue: (name: string) => `${ns}queue:${name}`,
    schedule: `${ns}schedule`,
    retry: `${ns}retry`,
    processes: `${ns}processes`,
    processed: `${ns}stat:processed`,
  };
}

/** An epoch time Sidekiq wrote (float seconds up to 7.x, integer ms from 8.0) in ms. */
export function sidekiqTimeToMs(value: number): number {
  return value > EPOCH_MS_THRESHOLD ? value : value * MS_PER_SECOND;
}

/** Queue#latency of one queue, from the job at LINDEX -1, in ms. */
function queueLatencyMs(job: string | undefined, key: string, nowMs: number): number {
  if (job === undefined) return 0;
  const parsed = parseJobJson(job, key);
  const enqueuedAt = isRecord(parsed) ? parsed['enqueued_at'] : undefined;
  // Sidekiq treats a job without enqueued_at as enqueued now.
  if (typeof enqueuedAt !== 'number') return 0;
  return Math.max(0, nowMs - sidekiqTimeToMs(enqueuedAt));
}

interface ProcessInfo {
  hostname: string | undefined;
  concurrency: number;
  queues: string[] | undefined;
}

function parseInfo(info: string): ProcessInfo | undefined {
  try {
    const parsed: unknown = JSON.parse(info);
    if (!isRecord(parsed) || typeof parsed['concurrency'] !== 'number') return undefined;
    const queues = Array.isArray(parsed['queues'])
      ? parsed['queues'].filter((q): q is string => typeof q === 'string')
      : undefined;
    return {
      hostname: typeof parsed['hostname'] === 'string' ? parsed['hostname'] : undefined,
      concurrency: parsed['concurrency'],
      queues,
    };
  } catch {
    return undefined;
  }
}

/** Live processes serving at least one of the pool's queues, and how many heartbeats were unreadable. */
function liveWorkers(
  reply: unknown,
  queueNames: readonly string[],
  nowMs: number,
): { workers: WorkerHeartbeat[]; unreadable: number } {
  const flat = replyArray(reply, 'sidekiq processes');
  const workers: WorkerHeartbeat[] = [];
  let unreadable = 0;
  for (let i = 0; i + PROCESS_FIELDS <= flat.length; i += PROCESS_FIELDS) {
    const identity = replyString(flat[i], 'process identity');
    const info = parseInfo(replyString(flat[i + 1], "a process's info"));
    const beatMs = sidekiqTimeToMs(replyNumber(flat[i + 3], "a process's beat"));
    if (nowMs - beatMs > HEARTBEAT_TTL_SECONDS * MS_PER_SECOND) continue;
    if (info === undefined) {
      unreadable += 1;
      continue;
    }
    if (info.queues !== undefined && !info.queues.some((q) => queueNames.includes(q))) continue;
    workers.push({
      pod: info.hostname ?? identity,
      busy: replyNumber(flat[i + 2], "a process's busy count"),
      concurrency: info.concurrency,
      draining: replyString(flat[i + 4], "a process's quiet flag") === 'true',
    });
  }
  return { workers, unreadable };
}

export const sidekiqReader: QueueFormatReader = {
  format: 'sidekiq',

  plan(queue: QueueSpec): ReadCommand[] {
    const keys = sidekiqKeys(queue.keyPrefix);
    return [
      ...queue.names.flatMap((name) => [
        redisCommand('LLEN', [keys.queue(name)], keys.queue(name)),
        redisCommand('LINDEX', [keys.queue(name), -1], keys.queue(name)),
      ]),
      scriptCommand(DUE_SCRIPT, [keys.schedule, keys.retry], [DUE_SCAN_LIMIT, ...upcomingArgs(), ...queue.names]),
      scriptCommand(PROCESSES_SCRIPT, [keys.processes], [keys.ns]),
      redisCommand('GET', [keys.processed], keys.processed),
    ];
  },

  decode(queue: QueueSpec, replies: readonly unknown[], { nowMs }: ReadContext): QueueReading {
    const keys = sidekiqKeys(queue.keyPrefix);
    const queues = queue.names.map((name, i) => {
      const key = keys.queue(name);
      return {
        name,
        depth: replyNumber(replies[2 * i], `LLEN ${key}`),
        oldestMs: queueLatencyMs(replyOptionalString(replies[2 * i + 1], `LINDEX ${key}`), key, nowMs),
      };
    });
    const depth = queues.reduce((sum, q) => sum + q.depth, 0);
    const oldestMs = Math.max(0, ...queues.map((q) => q.oldestMs));
    const tail = 2 * queue.names.length;
    const [due, truncated, upcomingTruncated, ...upcomingReply] = replyArray(replies[tail], 'sidekiq due jobs');
    const upcomingCut = replyNumber(upcomingTruncated, 'sidekiq upcoming truncated') === 1;
    const { workers, unreadable } = liveWorkers(replies[tail + 1], queue.names, nowMs);
    const notes = [
      ...(replyNumber(truncated, 'sidekiq due truncated') === 1
        ? [`more than ${DUE_SCAN_LIMIT} due jobs in schedule/retry: dueScheduled is a lower bound`]
        : []),
      ...(upcomingCut
        ? [
            `more than ${DUE_SCAN_LIMIT} jobs coming due in schedule/retry: upcoming counts beyond them are estimated from the share of this pool's queues`,
          ]
        : []),
      ...(unreadable > 0 ? [`${unreadable} Sidekiq heartbeat(s) with unreadable info were left out`] : []),
    ];
    return {
      observedAtMs: nowMs,
      depth,
      oldestJobAgeSeconds: oldestMs / MS_PER_SECOND,
      dueScheduled: replyNumber(due, 'sidekiq due jobs'),
      upcoming: decodeUpcoming(upcomingReply, upcomingCut, 'sidekiq schedule/retry'),
      busy: workers.reduce((sum, w) => sum + w.busy, 0),
      concurrency: workers.reduce((sum, w) => sum + w.concurrency, 0),
      workers,
      // stat:processed counts every job of every process on this Redis, not only this pool's.
      completedTotal: replyNumber(replyOptionalString(replies[tail + 2], keys.processed) ?? '0', keys.processed),
      queues: queues.map((q) => ({ name: q.name, depth: q.depth, oldestJobAgeSeconds: q.oldestMs / MS_PER_SECOND })),
      ...(notes.length > 0 ? { notes } : {}),
    };
  },
};
