import type { QueueFormat, QueueSpec } from '../api/workerpool-schema.ts';
import type { QueueReading } from './queue-reading.ts';
import { SIDEKIQ_HEARTBEAT_SECONDS } from './sidekiq-heartbeat.ts';

// What each format's reader really provides: the one home of that knowledge. The engine picks
// its estimators from it, the simulator strips a full reading down to it, `inspect` prints it,
// and the docs (operator/src/scaling/README.md, ADDING-A-FORMAT.md) describe it. A reader that
// starts or stops filling a field changes its profile here, and nowhere else.

/**
 * Whose completions a completion counter counts: this pool's (native; BullMQ from its events
 * stream; a stream group's acknowledged entries), every pool's on the Redis (Sidekiq's
 * stat:processed: the pool's own only while every live process on the Redis serves only the
 * pool's queues, which the reading tells by leaving completedSharedWith out), or there is none.
 */
export type CompletionCounter = 'pool' | 'shared' | 'none';

export const SIGNAL_PROFILE_NAMES = ['native', 'sidekiq', 'bullmq', 'list', 'list+timestamp', 'stream'] as const;
export type SignalProfileName = (typeof SIGNAL_PROFILE_NAMES)[number];

export interface SignalProfile {
  name: SignalProfileName;
  format: QueueFormat;
  /** The age of the oldest waiting job is read. */
  oldestAge: boolean;
  /** Jobs in flight are counted (busy, BullMQ active, stream pending). */
  inFlight: boolean;
  /** Per-worker heartbeats: busy, concurrency, draining (Sidekiq quiet, native draining). */
  heartbeats: boolean;
  completions: CompletionCounter;
  /**
   * The counter moves only when each worker adds what it finished at its heartbeat, this often
   * (Sidekiq 7 and 8; 6.x beats every 5 s): the reading says so in completedGranularitySeconds.
   */
  completionHeartbeatSeconds?: number;
  /** The queue system can say it is paused (BullMQ meta.paused). */
  pausedFlag: boolean;
  /** The queue system says what capacity it allows (BullMQ meta global concurrency and rate limit). */
  queueCapacity: boolean;
  /** Scheduled jobs not due yet, by when they come due (Sidekiq schedule/retry, BullMQ and native delayed). */
  upcoming: boolean;
  /**
   * The workers record their jobs' run time themselves (Sidekiq 7+'s execution metrics), kept
   * like the completion counter: recordedRunTime. Sidekiq 6.x records none.
   */
  recordedRunTime: boolean;
  /** One line for people: what is read and what the engine cannot know. */
  summary: string;
}

const PROFILES: Record<SignalProfileName, SignalProfile> = {
  native: {
    name: 'native',
    format: 'native',
    oldestAge: true,
    inFlight: true,
    heartbeats: true,
    completions: 'pool',
    pausedFlag: false,
    queueCapacity: false,
    recordedRunTime: false,
    upcoming: true,
    summary: "depth, oldest age, busy, per-worker concurrency and draining, the pool's own completion counter",
  },
  sidekiq: {
    name: 'sidekiq',
    format: 'sidekiq',
    oldestAge: true,
    inFlight: true,
    heartbeats: true,
    completions: 'shared',
    completionHeartbeatSeconds: SIDEKIQ_HEARTBEAT_SECONDS.from7,
    pausedFlag: false,
    queueCapacity: false,
    recordedRunTime: true,
    upcoming: true,
    summary:
      "depth, oldest age, busy, per-process concurrency and quiet, and stat:processed as the pool's completion counter while every live process on the Redis serves only the pool's queues; each process writes its busy and adds to the counter only at its heartbeat (10 s from Sidekiq 7), so the counter is read only over spans of at least a heartbeat, corrected by each process's beat time; the service time from the run time Sidekiq 7+ records of its jobs (its execution metrics, also added at the heartbeat) under the same condition (ADR 0004)",
  },
  bullmq: {
    name: 'bullmq',
    format: 'bullmq',
    oldestAge: true,
    inFlight: true,
    heartbeats: false,
    completions: 'pool',
    pausedFlag: true,
    queueCapacity: true,
    recordedRunTime: false,
    upcoming: true,
    summary:
      "depth, oldest age, active jobs, meta.paused, global concurrency and rate limit, and the jobs finished (completed and failed events in the queue's events stream) as the pool's completion counter",
  },
  list: {
    name: 'list',
    format: 'list',
    oldestAge: false,
    inFlight: false,
    heartbeats: false,
    completions: 'none',
    pausedFlag: false,
    queueCapacity: false,
    recordedRunTime: false,
    upcoming: false,
    summary:
      'depth only (items carry no timestamp): throughput is a lower bound from the backlog draining, and an empty list cannot tell an idle pool from one that keeps up',
  },
  'list+timestamp': {
    name: 'list+timestamp',
    format: 'list',
    oldestAge: true,
    inFlight: false,
    heartbeats: false,
    completions: 'none',
    pausedFlag: false,
    queueCapacity: false,
    recordedRunTime: false,
    upcoming: false,
    summary:
      'depth and oldest age (queue.list.timestampField); nothing on jobs in flight: throughput comes from the queue draining',
  },
  stream: {
    name: 'stream',
    format: 'stream',
    oldestAge: true,
    inFlight: true,
    heartbeats: false,
    completions: 'pool',
    pausedFlag: false,
    queueCapacity: false,
    recordedRunTime: false,
    upcoming: false,
    summary:
      "lag (depth), oldest undelivered age, pending entries (in flight), and the group's acknowledged entries (entries-read - pending, Redis 7.0+) as its completion counter",
  },
};

export function signalProfile(name: SignalProfileName): SignalProfile {
  return PROFILES[name];
}

/**
 * The profile a reading of `format` has. A list has an age only with queue.list.timestampField:
 * the reading says which. (A reading whose counter is missing this once, a BullMQ first poll or
 * a stream group Redis cannot count, keeps its format's profile: the engine sees no counter.)
 */
export function profileOfReading(
  format: QueueFormat,
  reading: Pick<QueueReading, 'oldestJobAgeSeconds'>,
): SignalProfile {
  if (format === 'list') return PROFILES[reading.oldestJobAgeSeconds === undefined ? 'list' : 'list+timestamp'];
  return PROFILES[format];
}

/**
 * The profile a pool's queue spec promises before anything is read: a list has an age only
 * with queue.list.timestampField.
 */
export function profileOfQueue(queue: Pick<QueueSpec, 'format' | 'list'>): SignalProfile {
  if (queue.format === 'list') return PROFILES[queue.list?.timestampField === undefined ? 'list' : 'list+timestamp'];
  return PROFILES[queue.format];
}

/** The completion counter of a reading when it counts this pool's jobs, else undefined. */
export function poolCompletions(
  profile: SignalProfile,
  reading: Pick<QueueReading, 'completedTotal' | 'completedSharedWith'>,
): number | undefined {
  if (profile.completions === 'pool') return reading.completedTotal;
  if (profile.completions === 'shared' && reading.completedSharedWith === undefined) return reading.completedTotal;
  return undefined;
}

/**
 * Whether a reading's own completions count every job as it finishes, so that arrivals can be
 * counted from them (Δdepth + Δbusy + Δcompleted) poll by poll. A counter that moves in lumps at
 * heartbeats would read each lump as a burst of arrivals: it only measures service time.
 */
export function countsEveryCompletion(
  profile: SignalProfile,
  reading: Pick<QueueReading, 'completedTotal' | 'completedSharedWith' | 'completedGranularitySeconds'>,
): boolean {
  return poolCompletions(profile, reading) !== undefined && reading.completedGranularitySeconds === undefined;
}

/**
 * A reading with only what the profile's reader fills. The simulator knows everything; it
 * hands each policy this. `sharedCompletions` are other pools' jobs on the same Redis, which a
 * shared counter (Sidekiq's stat:processed) also counts.
 */
export function restrictToProfile(profile: SignalProfile, full: QueueReading, sharedCompletions = 0): QueueReading {
  const reading: QueueReading = {
    observedAtMs: full.observedAtMs,
    depth: full.depth,
    oldestJobAgeSeconds: profile.oldestAge ? full.oldestJobAgeSeconds : undefined,
    dueScheduled: full.dueScheduled,
  };
  if (profile.upcoming && full.upcoming !== undefined) reading.upcoming = full.upcoming;
  if (profile.inFlight && full.busy !== undefined) reading.busy = full.busy;
  if (profile.heartbeats) {
    if (full.workers !== undefined) reading.workers = full.workers;
    if (full.concurrency !== undefined) reading.concurrency = full.concurrency;
  }
  if (profile.completions !== 'none' && full.completedTotal !== undefined) {
    reading.completedTotal = full.completedTotal + (profile.completions === 'shared' ? sharedCompletions : 0);
    if (full.completedGranularitySeconds !== undefined)
      reading.completedGranularitySeconds = full.completedGranularitySeconds;
    if (profile.completions === 'shared' && sharedCompletions > 0)
      reading.completedSharedWith = 'other pools on the same Redis';
    if (profile.recordedRunTime && full.recordedRunTime !== undefined) reading.recordedRunTime = full.recordedRunTime;
  }
  if (profile.pausedFlag && full.paused === true) reading.paused = true;
  if (profile.queueCapacity && full.capacity !== undefined) reading.capacity = full.capacity;
  if (full.queues !== undefined)
    reading.queues = full.queues.map((queue) => ({
      name: queue.name,
      depth: queue.depth,
      oldestJobAgeSeconds: profile.oldestAge ? queue.oldestJobAgeSeconds : undefined,
      ...(profile.pausedFlag && queue.paused === true ? { paused: true } : {}),
    }));
  return reading;
}
