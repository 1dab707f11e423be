/**
 * The one home of every Redis key name of the native protocol (see worker-runtime/PROTOCOL.md).
 * The operator's native signal reader imports this module instead of copying the layout, so a
 * change of layout is a change in one file.
 */

/** The prefix used when none is configured (WORKERPOOL_KEY_PREFIX). */
export const DEFAULT_KEY_PREFIX = 'wp:';

/** Every key of one queue. All share the `{queue}` hash tag, so one queue lives in one cluster slot. */
export interface QueueKeys {
  readonly prefix: string;
  readonly queue: string;
  /** LIST of entries `<readyAtMs>:<jobId>`; producers LPUSH, workers RPOP, so the oldest is at index -1. */
  readonly wait: string;
  /** ZSET jobId → due time (epoch ms) of jobs that must not run yet (delays and retry backoff). */
  readonly delayed: string;
  /** ZSET entry → reservation deadline (epoch ms): jobs a worker holds; past the deadline they are reclaimed. */
  readonly active: string;
  /** HASH jobId → job record (JSON, written by the client, never parsed by Lua). */
  readonly jobs: string;
  /** HASH jobId → how many times a reservation of the job was reclaimed from a dead worker. */
  readonly stalls: string;
  /** ZSET jobId → time (epoch ms) the job became a dead letter. */
  readonly dead: string;
  /** HASH jobId → dead-letter detail (JSON: reason, attempts, lastError, deadAt). */
  readonly deadInfo: string;
  /** HASH of monotonic counters (completed, retried, dead, reclaimed, discarded) and maintenance marks. */
  readonly counters: string;
  /** ZSET workerId → heartbeat expiry (epoch ms). A worker is alive while its score is in the future. */
  readonly workers: string;
  /** HASH workerId → heartbeat (JSON: pod, pid, busy, concurrency, draining, beatAt). */
  readonly workerInfo: string;
}

/** Field names of the `counters` hash. */
export const COUNTER_FIELDS = {
  completed: 'completed',
  retried: 'retried',
  dead: 'dead',
  reclaimed: 'reclaimed',
  /** Dead letters deleted: purged, or past their retention (their records went with them). */
  discarded: 'discarded',
  /** Jobs whose record was gone (evicted) when reserved or reclaimed; each is also a dead letter. */
  missing: 'missing',
} as const;

const MAX_QUEUE_NAME_LENGTH = 200;

/** Throws a message naming the bad value: a brace would break the cluster hash tag. */
export function validateQueueName(queue: string): void {
  if (queue.length === 0) throw new Error('queue name must not be empty');
  if (queue.length > MAX_QUEUE_NAME_LENGTH)
    throw new Error(`queue name "${queue.slice(0, 40)}…" is longer than ${MAX_QUEUE_NAME_LENGTH} characters`);
  if (/[{}\s]/.test(queue)) throw new Error(`queue name "${queue}" must not contain braces or whitespace`);
}

/** All key names of `queue` under `prefix` (e.g. `wp:` → `wp:{mailers}:wait`). */
export function queueKeys(prefix: string, queue: string): QueueKeys {
  validateQueueName(queue);
  const base = `${prefix}{${queue}}:`;
  return {
    prefix,
    queue,
    wait: `${base}wait`,
    delayed: `${base}delayed`,
    active: `${base}active`,
    jobs: `${base}jobs`,
    stalls: `${base}stalls`,
    dead: `${base}dead`,
    deadInfo: `${base}dead-info`,
    counters: `${base}counters`,
    workers: `${base}workers`,
    workerInfo: `${base}worker-info`,
  };
}

/**
 * STRING whose presence asks one worker to drain: stop taking jobs, finish those it runs, and say
 * `draining` in its heartbeat. The operator sets it (with a TTL) before it removes the worker's
 * pod; the worker reads it with every heartbeat. Per worker, under the queue's hash tag, so the
 * heartbeat script reaches it in the queue's cluster slot and a stale request expires by itself.
 */
export function drainRequestKey(keys: QueueKeys, workerId: string): string {
  return `${keys.prefix}{${keys.queue}}:drain:${workerId}`;
}

export {
  READ_SIGNALS_SCRIPT,
  readSignalsCall,
  parseSignalsReply,
  readQueueSignals,
  type QueueSignals,
  type WorkerHeartbeat,
  type ScriptCall,
} from './signals.ts';
