import type { Redis } from 'ioredis';
import { encodeDeadInfo, type DeadDetail } from './dead-letter.ts';
import { encodeReservation } from './entry.ts';
import { drainRequestKey, type QueueKeys } from './keys.ts';
import { replyArray, replyInt, replyString } from './reply.ts';
import { runScript } from './run-script.ts';
import { SCRIPTS } from './scripts.ts';

/**
 * Typed calls of the write scripts: each builds KEYS/ARGV in the order its .lua header documents
 * and narrows the reply, so no caller handles raw `unknown` replies.
 */

export interface NewJob {
  readonly id: string;
  readonly record: string;
  /** Ms after the add (by Redis's clock) before the job may run; 0: ready at once. */
  readonly delayMs: number;
}

/**
 * Adds jobs; returns per job whether it was new (false: the id already existed). They are added at
 * Redis's TIME unless `atMs` is given: an import that keeps the jobs' original enqueue time.
 */
export async function addJobs(
  redis: Redis,
  keys: QueueKeys,
  jobs: readonly NewJob[],
  atMs?: number,
): Promise<boolean[]> {
  const args: (string | number)[] = [atMs === undefined ? '' : Math.floor(atMs)];
  for (const job of jobs) args.push(job.id, job.record, Math.max(0, Math.floor(job.delayMs)));
  const reply = replyArray(
    await runScript(redis, { script: SCRIPTS.add, keys: [keys.wait, keys.delayed, keys.jobs], args }),
    'add',
  );
  return reply.map((v) => replyInt(v, 'add') === 1);
}

export interface ReservedJob {
  readonly entry: string;
  /** `<token>:<entry>`: what ack, fail, release and extend name (see entry.ts). */
  readonly reservation: string;
  /** The raw record: decoding (and failing on a malformed one) is the worker's business. */
  readonly record: string;
}

export interface AckAndReserveResult {
  readonly completed: number;
  /** Entries taken whose record was gone (evicted): moved to the dead letters as `missing-record`. */
  readonly missing: number;
  readonly reserved: ReservedJob[];
}

export async function ackAndReserve(
  redis: Redis,
  keys: QueueKeys,
  call: {
    visibilityTimeoutMs: number;
    count: number;
    /** The token of the reservations made by this call: unique to it, a letter first, no colon. */
    token: string;
    /** Reservations of finished jobs. */
    acks: readonly string[];
  },
): Promise<AckAndReserveResult> {
  const reply = replyArray(
    await runScript(redis, {
      script: SCRIPTS.ackAndReserve,
      keys: [keys.wait, keys.active, keys.jobs, keys.stalls, keys.counters, keys.dead, keys.deadInfo],
      args: [call.visibilityTimeoutMs, call.count, call.token, ...call.acks],
    }),
    'ack-and-reserve',
  );
  const reserved: ReservedJob[] = [];
  for (let i = 2; i + 1 < reply.length; i += 2) {
    const entry = replyString(reply[i], 'ack-and-reserve entry');
    reserved.push({
      entry,
      reservation: encodeReservation(call.token, entry),
      record: replyString(reply[i + 1], 'ack-and-reserve record'),
    });
  }
  return {
    completed: replyInt(reply[0], 'ack-and-reserve completed'),
    missing: replyInt(reply[1], 'ack-and-reserve missing'),
    reserved,
  };
}

export type FailureOutcome =
  { readonly kind: 'retry'; readonly delayMs: number } | { readonly kind: 'dead'; readonly info: DeadDetail };

/** Returns false when the reservation was no longer held (then nothing was changed). */
export async function recordFailure(
  redis: Redis,
  keys: QueueKeys,
  call: { reservation: string; jobId: string; record: string; outcome: FailureOutcome },
): Promise<boolean> {
  const { outcome } = call;
  const last = outcome.kind === 'retry' ? Math.max(0, Math.floor(outcome.delayMs)) : encodeDeadInfo(outcome.info);
  const reply = await runScript(redis, {
    script: SCRIPTS.fail,
    keys: [keys.active, keys.wait, keys.delayed, keys.jobs, keys.dead, keys.deadInfo, keys.counters, keys.stalls],
    args: [call.reservation, call.jobId, call.record, outcome.kind, last],
  });
  return replyInt(reply, 'fail') === 1;
}

/** Returns reservations to the head of the wait list, the first at the very head; counts those still held. */
export async function releaseJobs(redis: Redis, keys: QueueKeys, reservations: readonly string[]): Promise<number> {
  if (reservations.length === 0) return 0;
  return replyInt(
    await runScript(redis, { script: SCRIPTS.release, keys: [keys.active, keys.wait], args: reservations }),
    'release',
  );
}

export async function publishHeartbeat(
  redis: Redis,
  keys: QueueKeys,
  call: {
    workerId: string;
    /** How long the heartbeat lives (by Redis's clock); 0 removes it. */
    ttlMs: number;
    heartbeat: string;
    visibilityTimeoutMs: number;
    /** Reservations the worker holds, to extend. */
    reservations: readonly string[];
  },
): Promise<{ drainRequested: boolean; lost: string[] }> {
  const reply = replyArray(
    await runScript(redis, {
      script: SCRIPTS.heartbeat,
      keys: [keys.workers, keys.workerInfo, keys.active, drainRequestKey(keys, call.workerId)],
      args: [call.workerId, call.ttlMs, call.heartbeat, call.visibilityTimeoutMs, ...call.reservations],
    }),
    'heartbeat',
  );
  const [flag, ...lost] = reply;
  return {
    drainRequested: replyInt(flag, 'heartbeat drain request') === 1,
    // The reservations no longer held: reclaimed while this worker was away.
    lost: lost.map((v) => replyString(v, 'heartbeat lost reservation')),
  };
}

export interface MaintainResult {
  readonly promoted: number;
  readonly reclaimed: number;
  readonly buried: number;
  /** Redis ms until which nothing is reclaimed, after a gap in maintenance; 0 outside a grace. */
  readonly graceUntil: number;
  /** Dead letters deleted past their retention. */
  readonly discarded: number;
  /** Expired reservations whose record was gone (evicted): moved to the dead letters as `missing-record`. */
  readonly missing: number;
}

export async function maintainQueue(
  redis: Redis,
  keys: QueueKeys,
  call: {
    maxStalls: number;
    limit: number;
    visibilityTimeoutMs: number;
    gapMs: number;
    deadLetterMaxAgeMs: number;
    deadLetterMaxCount: number;
  },
): Promise<MaintainResult> {
  const reply = replyArray(
    await runScript(redis, {
      script: SCRIPTS.maintain,
      keys: [
        keys.wait,
        keys.delayed,
        keys.active,
        keys.stalls,
        keys.dead,
        keys.deadInfo,
        keys.counters,
        keys.workers,
        keys.workerInfo,
        keys.jobs,
      ],
      args: [
        call.maxStalls,
        call.limit,
        call.visibilityTimeoutMs,
        call.gapMs,
        call.deadLetterMaxAgeMs,
        call.deadLetterMaxCount,
      ],
    }),
    'maintain',
  );
  return {
    promoted: replyInt(reply[0], 'maintain promoted'),
    reclaimed: replyInt(reply[1], 'maintain reclaimed'),
    buried: replyInt(reply[2], 'maintain buried'),
    graceUntil: replyInt(reply[3], 'maintain graceUntil'),
    discarded: replyInt(reply[4], 'maintain discarded'),
    missing: replyInt(reply[5], 'maintain missing'),
  };
}

export async function replayDead(
  redis: Redis,
  keys: QueueKeys,
  jobs: readonly { id: string; record: string }[],
): Promise<number> {
  if (jobs.length === 0) return 0;
  const args: string[] = [];
  for (const job of jobs) args.push(job.id, job.record);
  const reply = await runScript(redis, {
    script: SCRIPTS.replayDead,
    keys: [keys.dead, keys.deadInfo, keys.jobs, keys.wait, keys.stalls],
    args,
  });
  return replyInt(reply, 'replay-dead');
}

export async function purgeDead(redis: Redis, keys: QueueKeys, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return replyInt(
    await runScript(redis, {
      script: SCRIPTS.purgeDead,
      keys: [keys.dead, keys.deadInfo, keys.jobs, keys.counters],
      args: ids,
    }),
    'purge-dead',
  );
}
