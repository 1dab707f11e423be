import type { Redis } from 'ioredis';
import { decodeHeartbeat, type WorkerHeartbeat } from './heartbeat.ts';
import type { QueueKeys } from './keys.ts';
import { loadLuaScript } from './lua-script.ts';
import { replyArray, replyInt, replyString } from './reply.ts';
import { runScriptsPipelined, type ScriptCall } from './run-script.ts';

export type { WorkerHeartbeat } from './heartbeat.ts';
export type { ScriptCall } from './run-script.ts';

/** Read-only script (`#!lua flags=no-writes`): may run with EVALSHA_RO on a replica. */
export const READ_SIGNALS_SCRIPT = loadLuaScript('read-signals-7.lua');

/** Everything the operator scales on, for one queue, read in one script call. */
export interface QueueSignals {
  readonly queue: string;
  /** The clock the ages were computed against (epoch ms). */
  readonly now: number;
  readonly waiting: number;
  /** Due delayed jobs: waiting work that only a running worker would promote. */
  readonly delayedDue: number;
  readonly delayed: number;
  /** Reserved jobs (in flight), including reservations of dead workers not yet reclaimed. */
  readonly active: number;
  readonly activeExpired: number;
  /** Monotonic count of completed jobs: throughput is its rate. */
  readonly completed: number;
  readonly deadLetters: number;
  /** Age of the oldest job that could run now (waiting, or delayed and due); 0 when none. */
  readonly oldestAgeMs: number;
  /** Live workers of this queue, from their heartbeats (expired ones are left out). */
  readonly workers: readonly WorkerHeartbeat[];
  /** Heartbeats that could not be decoded (a newer or broken writer); reported, never fatal. */
  readonly malformedHeartbeats: number;
  /**
   * Delayed jobs not due yet, per horizon asked for (readSignalsCall's upcomingHorizonsSeconds):
   * how many come due within it (cumulative), and ms until the earliest of those between the
   * previous horizon and this one (-1 when none). Empty when no horizons were asked for.
   */
  readonly upcoming: readonly { readonly within: number; readonly earliestMs: number }[];
}

/**
 * The script call for one queue; `nowMs` undefined means the Redis server's clock. With
 * `upcomingHorizonsSeconds` (ascending), the reply also counts the delayed jobs coming due.
 */
export function readSignalsCall(
  keys: QueueKeys,
  nowMs?: number,
  upcomingHorizonsSeconds: readonly number[] = [],
): ScriptCall {
  return {
    script: READ_SIGNALS_SCRIPT,
    keys: [keys.wait, keys.delayed, keys.active, keys.counters, keys.dead, keys.workers, keys.workerInfo],
    args: [nowMs === undefined ? '' : Math.floor(nowMs), ...upcomingHorizonsSeconds],
  };
}

function parseWorkers(flat: unknown[]): { workers: WorkerHeartbeat[]; malformed: number } {
  const workers: WorkerHeartbeat[] = [];
  let malformed = 0;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    try {
      workers.push(decodeHeartbeat(replyString(flat[i], 'workerId'), replyString(flat[i + 1], 'heartbeat')));
    } catch {
      malformed += 1;
    }
  }
  return { workers, malformed };
}

/** Decodes the reply of READ_SIGNALS_SCRIPT (layout documented in read-signals-7.lua). */
export function parseSignalsReply(queue: string, reply: unknown): QueueSignals {
  const r = replyArray(reply, 'read-signals');
  const int = (i: number, name: string) => replyInt(r[i], `read-signals ${name}`);
  const { workers, malformed } = parseWorkers(replyArray(r[11], 'read-signals workers'));
  return {
    queue,
    now: int(0, 'now'),
    waiting: int(1, 'waiting'),
    delayed: int(3, 'delayed'),
    delayedDue: int(4, 'delayedDue'),
    active: int(6, 'active'),
    activeExpired: int(7, 'activeExpired'),
    completed: int(8, 'completed'),
    deadLetters: int(9, 'deadLetters'),
    oldestAgeMs: int(10, 'oldestAgeMs'),
    workers,
    malformedHeartbeats: malformed,
    upcoming: parseUpcoming(r[12] === undefined ? [] : replyArray(r[12], 'read-signals upcoming')),
  };
}

function parseUpcoming(flat: unknown[]): { within: number; earliestMs: number }[] {
  const upcoming: { within: number; earliestMs: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2)
    upcoming.push({
      within: replyInt(flat[i], 'read-signals upcoming within'),
      earliestMs: replyInt(flat[i + 1], 'read-signals upcoming earliest'),
    });
  return upcoming;
}

/** Reads the signals of several queues in ONE round trip (a pipeline of EVALSHA, NOSCRIPT handled). */
export async function readQueueSignals(
  redis: Redis,
  keys: readonly QueueKeys[],
  nowMs?: number,
): Promise<QueueSignals[]> {
  const replies = await runScriptsPipelined(
    redis,
    keys.map((k) => readSignalsCall(k, nowMs)),
  );
  return replies.map((reply, i) => parseSignalsReply(keys[i]?.queue ?? '', reply));
}
