import type { QueueSpec } from '../api/workerpool-schema.ts';
import { loadSignalScript } from './lua-script.ts';
import type { QueueFormatReader, ReadContext } from './queue-reader.ts';
import type { QueueReading, UnreadableHeartbeats, WorkerHeartbeat } from './queue-reading.ts';
import { decodeQueueHead, queueHeadCommand, type QueueHead, type QueueHeadOptions } from './queue-head.ts';
import { redisCommand, scriptCommand, type ReadCommand } from './read-command.ts';
import { decodeUpcoming, upcomingArgs } from './upcoming.ts';
import { isRecord, replyArray, replyNumber, replyOptionalString, replyString } from './reply.ts';
import { SIDEKIQ_HEARTBEAT_SECONDS, sidekiqHeartbeatSeconds } from './sidekiq-heartbeat.ts';
import { decodeMinuteTotals, metricsKeysAround, nextRunTime, runTimeMemory } from './sidekiq-metrics.ts';

// Sidekiq 6.x, 7.x and 8.x, read the way Sidekiq's own API (lib/sidekiq/api.rb) reads them:
// - queue:<q> is a LIST the client LPUSHes to, so the oldest job is LINDEX -1, and
//   Queue#latency = now - enqueued_at of that job (0 when the queue is empty or the field absent);
// - schedule and retry are ZSETs scored by run time in epoch seconds;
// - processes is a SET of identities whose heartbeat hashes (60 s TTL) hold busy, beat, quiet,
//   info, and from 8.1.2 concurrency (see concurrencyOf for where each version keeps it).
// Sidekiq 6 apps using redis-namespace prefix every key with "<ns>:" (queue.keyPrefix).

const DUE_SCRIPT = loadSignalScript('sidekiq-due-2.lua');
const PROCESSES_SCRIPT = loadSignalScript('sidekiq-processes-1.lua');
const METRICS_SCRIPT = loadSignalScript('sidekiq-metrics-6.lua');

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
/** Sidekiq::Queue#latency reads enqueued_at of the job at LINDEX -1 (api.rb). */
const QUEUE_HEAD: QueueHeadOptions = {
  index: -1,
  field: 'enqueued_at',
  msPerUnit: MS_PER_SECOND,
  alreadyMsAbove: EPOCH_MS_THRESHOLD,
};
/** Identity and six fields per process in the processes script's reply. */
const PROCESS_FIELDS = 7;
/** Most processes read per pool and poll: bounds the reply whatever runs on the Redis. */
export const PROCESS_LIMIT = 1000;

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
    /** The list Sidekiq::Process#signal pushes to and the process pops at each heartbeat (api.rb, launcher.rb). */
    signals: (identity: string) => `${ns}${identity}-signals`,
  };
}

/** An epoch time Sidekiq wrote (float seconds up to 7.x, integer ms from 8.0) in ms. */
export function sidekiqTimeToMs(value: number): number {
  return value > EPOCH_MS_THRESHOLD ? value : value * MS_PER_SECOND;
}

/** Queue#latency of one queue, in ms, from the head the script read. */
function queueLatencyMs(head: QueueHead, nowMs: number): number {
  // Sidekiq treats a job without enqueued_at as enqueued now.
  if (head.head !== 'timed') return 0;
  return Math.max(0, nowMs - head.enqueuedAtMs);
}

/** What one process's heartbeat says (and how often it beats), or why the reader cannot use it. */
type Heartbeat = { worker: WorkerHeartbeat; beatSeconds: number } | { unusable: string };

/** A count Sidekiq wrote: a non-negative integer, as a number in JSON or a string in the hash. */
function count(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Capsules by name from an 8.x `info` (Capsule#to_h: concurrency, mode, weights by queue). */
function capsulesOf(info: Record<string, unknown>): Record<string, unknown>[] | undefined {
  const capsules = info['capsules'];
  return isRecord(capsules) ? Object.values(capsules).filter(isRecord) : undefined;
}

/**
 * The process's concurrency: a field of the hash from 8.1.2, in `info` up to 8.1.1, and in
 * each capsule of `info` from 8.0 (the one source left should `info.concurrency` go, as
 * `queues` and `weights` are marked to).
 */
function concurrencyOf(field: string, info: Record<string, unknown>): number | undefined {
  if (field !== '') return count(field);
  const inInfo = count(info['concurrency']);
  if (inInfo !== undefined) return inInfo;
  const perCapsule = capsulesOf(info)?.map((c) => count(c['concurrency']));
  if (perCapsule === undefined || perCapsule.length === 0 || perCapsule.includes(undefined)) return undefined;
  return perCapsule.reduce<number>((sum, n) => sum + (n ?? 0), 0);
}

function parseInfo(info: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(info);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** One live process's heartbeat (identity, trimmed info, busy, beat, quiet, concurrency) as the script returns it. */
function decodeHeartbeat(identity: string, fields: readonly string[], quietKey: string): Heartbeat {
  const [infoText = '', busyText = '', beatText = '', quiet = '', concurrencyField = ''] = fields;
  const beat = Number(beatText);
  const info = parseInfo(infoText);
  if (info === undefined) return { unusable: 'info is not a JSON object' };
  const concurrency = concurrencyOf(concurrencyField, info);
  if (concurrency === undefined) return { unusable: 'no concurrency in the process hash, its info or its capsules' };
  const busy = count(busyText);
  if (busy === undefined) return { unusable: `busy is ${JSON.stringify(busyText)}, not a count` };
  return {
    worker: {
      pod: typeof info['hostname'] === 'string' ? info['hostname'] : identity,
      busy,
      concurrency,
      draining: quiet === 'true',
      quietKey,
      // busy and the process's count in stat:processed are both as of this beat (launcher.rb `❤`).
      ...(Number.isFinite(beat) ? { beatAtMs: sidekiqTimeToMs(beat) } : {}),
    },
    beatSeconds: sidekiqHeartbeatSeconds(info['version']),
  };
}

/**
 * Live processes serving at least one of the pool's queues (the script leaves the others out,
 * and returns those whose queues cannot be told: they may be ours), and the heartbeats the
 * reader cannot use.
 */
function liveWorkers(
  reply: unknown,
  nowMs: number,
  keys: ReturnType<typeof sidekiqKeys>,
): {
  workers: WorkerHeartbeat[];
  unreadable: UnreadableHeartbeats | undefined;
  truncated: boolean;
  sharedWith: string | undefined;
  beatSeconds: number;
  /** Every live process is Sidekiq 7 or later, which records its jobs' run time (sidekiq-metrics.ts). */
  allRecordRunTime: boolean;
} {
  const [truncated, sharedWith, ...flat] = replyArray(reply, 'sidekiq processes');
  const workers: WorkerHeartbeat[] = [];
  let unreadable: UnreadableHeartbeats | undefined;
  // The counter is whole only over the slowest beat among the processes that add to it.
  let beatSeconds: number = SIDEKIQ_HEARTBEAT_SECONDS.before7;
  // Sidekiq names its version in info from 7.0, as metrics began; 6.x beats every 5 s and names none.
  let allRecordRunTime = true;
  for (let i = 0; i + PROCESS_FIELDS <= flat.length; i += PROCESS_FIELDS) {
    const identity = replyString(flat[i], 'process identity');
    const fields = flat.slice(i + 1, i + PROCESS_FIELDS).map((f) => replyString(f, `process ${identity}`));
    const beat = Number(fields[2]);
    if (Number.isFinite(beat) && nowMs - sidekiqTimeToMs(beat) > HEARTBEAT_TTL_SECONDS * MS_PER_SECOND) continue;
    const decoded = decodeHeartbeat(identity, fields, keys.signals(identity));
    const heartbeat: Heartbeat =
      Number.isFinite(beat) || 'unusable' in decoded
        ? decoded
        : { unusable: `beat is ${JSON.stringify(fields[2])}, not a time` };
    if ('worker' in heartbeat) {
      workers.push(heartbeat.worker);
      beatSeconds = Math.max(beatSeconds, heartbeat.beatSeconds);
      allRecordRunTime &&= heartbeat.beatSeconds === SIDEKIQ_HEARTBEAT_SECONDS.from7;
    } else
      unreadable = {
        count: (unreadable?.count ?? 0) + 1,
        first: unreadable?.first ?? `${identity}: ${heartbeat.unusable}`,
      };
  }
  const shared = replyString(sharedWith, 'sidekiq processes shared counter');
  return {
    workers,
    unreadable,
    truncated: replyNumber(truncated, 'sidekiq processes truncated') === 1,
    sharedWith: shared === '' ? undefined : shared,
    beatSeconds,
    allRecordRunTime: allRecordRunTime && workers.length > 0 && unreadable === undefined,
  };
}

/**
 * The live processes of one poll's reply, decoded once: the poller calls decode and then
 * remember with the same replies, and both need them (remember for whether the next poll reads
 * the metrics). Decoding parses every process's info JSON, up to PROCESS_LIMIT of them a poll.
 */
const LIVE_WORKERS = new WeakMap<object, ReturnType<typeof liveWorkers>>();

function liveWorkersOnce(reply: unknown, nowMs: number, keys: ReturnType<typeof sidekiqKeys>) {
  if (typeof reply !== 'object' || reply === null) return liveWorkers(reply, nowMs, keys);
  let live = LIVE_WORKERS.get(reply);
  if (live === undefined) {
    live = liveWorkers(reply, nowMs, keys);
    LIVE_WORKERS.set(reply, live);
  }
  return live;
}

/** The commands every poll makes, built once per registered spec: the plan is made before every poll. */
const FIXED_COMMANDS = new WeakMap<QueueSpec, readonly ReadCommand[]>();

function fixedCommands(queue: QueueSpec): readonly ReadCommand[] {
  let commands = FIXED_COMMANDS.get(queue);
  if (commands === undefined) {
    const keys = sidekiqKeys(queue.keyPrefix);
    commands = [
      // Each queue's length and its oldest job's enqueued_at, taken inside Redis: numbers only.
      ...queue.names.map((name) => queueHeadCommand(keys.queue(name), QUEUE_HEAD)),
      scriptCommand(DUE_SCRIPT, [keys.schedule, keys.retry], [DUE_SCAN_LIMIT, ...upcomingArgs(), ...queue.names]),
      scriptCommand(PROCESSES_SCRIPT, [keys.processes], [keys.ns, PROCESS_LIMIT, ...queue.names]),
      redisCommand('GET', [keys.processed], keys.processed),
    ];
    FIXED_COMMANDS.set(queue, commands);
  }
  return commands;
}

/**
 * The run-time memory after this read: the metrics reply follows the fixed commands' when the
 * plan read it. The next poll reads them only where the engine can use them: every live process
 * records them, and none serves another pool (the counter's condition, completedSharedWith).
 */
function runTimeAfter(
  queue: QueueSpec,
  replies: readonly unknown[],
  nowMs: number,
  memory: unknown,
  live: Pick<ReturnType<typeof liveWorkers>, 'allRecordRunTime' | 'sharedWith'>,
) {
  const previous = runTimeMemory(memory);
  const metricsReply = replies[queue.names.length + 3];
  const read =
    previous === undefined || metricsReply === undefined
      ? undefined
      : decodeMinuteTotals(metricsReply, metricsKeysAround(previous.atMs, sidekiqKeys(queue.keyPrefix).ns));
  return nextRunTime(previous, nowMs, read, live.allRecordRunTime && live.sharedWith === undefined);
}

export const sidekiqReader: QueueFormatReader = {
  format: 'sidekiq',

  plan(queue: QueueSpec, memory?: unknown): ReadCommand[] {
    // The minutes of Sidekiq's execution metrics around the previous read's time: the first
    // read, before the reader knows Redis's clock, reads none.
    const since = runTimeMemory(memory);
    return [
      ...fixedCommands(queue),
      ...(since === undefined || since.readNext === false
        ? []
        : [
            scriptCommand(
              METRICS_SCRIPT,
              metricsKeysAround(since.atMs, sidekiqKeys(queue.keyPrefix).ns).map((minute) => minute.key),
              [],
            ),
          ]),
    ];
  },

  remember(queue: QueueSpec, replies: readonly unknown[], { nowMs, memory }: ReadContext) {
    const live = liveWorkersOnce(replies[queue.names.length + 1], nowMs, sidekiqKeys(queue.keyPrefix));
    return runTimeAfter(queue, replies, nowMs, memory, live);
  },

  decode(queue: QueueSpec, replies: readonly unknown[], { nowMs, memory }: ReadContext): QueueReading {
    const keys = sidekiqKeys(queue.keyPrefix);
    const queues = queue.names.map((name, i) => {
      const head = decodeQueueHead(replies[i], keys.queue(name));
      return { name, depth: head.depth, oldestMs: queueLatencyMs(head, nowMs) };
    });
    const depth = queues.reduce((sum, q) => sum + q.depth, 0);
    const oldestMs = Math.max(0, ...queues.map((q) => q.oldestMs));
    const tail = queue.names.length;
    const [due, truncated, upcomingTruncated, ...upcomingReply] = replyArray(replies[tail], 'sidekiq due jobs');
    const upcomingCut = replyNumber(upcomingTruncated, 'sidekiq upcoming truncated') === 1;
    const live = liveWorkersOnce(replies[tail + 1], nowMs, keys);
    const { workers, unreadable, truncated: processesCut, sharedWith, beatSeconds, allRecordRunTime } = live;
    const runTime = runTimeAfter(queue, replies, nowMs, memory, live);
    const notes = [
      ...(replyNumber(truncated, 'sidekiq due truncated') === 1
        ? [`more than ${DUE_SCAN_LIMIT} due jobs in schedule/retry: dueScheduled is a lower bound`]
        : []),
      ...(upcomingCut
        ? [
            `more than ${DUE_SCAN_LIMIT} jobs coming due in schedule/retry: upcoming counts beyond them are estimated from the share of this pool's queues`,
          ]
        : []),
      ...(processesCut
        ? [
            `more than ${PROCESS_LIMIT} Sidekiq processes serve these queues: busy and concurrency count ${PROCESS_LIMIT} of them`,
          ]
        : []),
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
      // stat:processed counts every job of every process on this Redis (or redis-namespace), each
      // process adding its count at its heartbeat: the pool's own only when no other serves there.
      completedTotal: replyNumber(replyOptionalString(replies[tail + 2], keys.processed) ?? '0', keys.processed),
      completedGranularitySeconds: beatSeconds,
      // Sidekiq's own run time of its jobs (7.0+), summed by the reader: the service time whenever the beats fall.
      ...(runTime.counting && allRecordRunTime
        ? { recordedRunTime: { jobs: runTime.jobs, seconds: runTime.seconds } }
        : {}),
      ...(sharedWith === undefined ? {} : { completedSharedWith: sharedWith }),
      queues: queues.map((q) => ({ name: q.name, depth: q.depth, oldestJobAgeSeconds: q.oldestMs / MS_PER_SECOND })),
      ...(unreadable === undefined ? {} : { unreadableHeartbeats: unreadable }),
      ...(notes.length > 0 ? { notes } : {}),
    };
  },
};
