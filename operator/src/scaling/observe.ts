import type { ScalingSpec } from '../api/workerpool-schema.ts';
import type { QueueReading } from '../signals/queue-reading.ts';
import { countsEveryCompletion, profileOfReading } from '../signals/signal-profile.ts';
import {
  arrivalsCounted,
  arrivalsCountedOverSeconds,
  lumpLanded,
  observeReading,
  plannedArrivalRate,
  scheduledCameDue,
  serviceTimeSeconds,
  type ObservationContext,
  type ObservedSignals,
} from './signal-estimates.ts';
import type { ScheduledJobs, SizingInput, StartingBatch } from './sizing.ts';
import type { ScaleEvent, ScaleInput, SignalEstimate } from './types.ts';

// The engine's first stage: one reading folded into the estimates, and what the pool looks like
// to the later stages (serving replicas, jobs waiting, since when it has been idle or quiet).
// Everything after it works from the Observation alone, never from the raw reading's counters.

export interface Observation {
  observed: ObservedSignals;
  signals: SignalEstimate;
  /** Jobs waiting for a replica: due scheduled jobs included, none while the queue is paused. */
  waiting: number;
  /** Ready replicas that take jobs (draining ones excluded). */
  servingReplicas: number;
  /**
   * The pool counts its own completions, so every arrival is counted (Δdepth + Δbusy +
   * Δcompleted), not estimated from the queue draining: a drop in the rate is a measured one.
   */
  countsArrivals: boolean;
  /** The sizing's view of the pool, for every sizing rule (pool-wide and per queue). */
  sizingInput: SizingInput;
  unmeasuredSinceMs: number | undefined;
  /** Scheduled jobs that come due within the sizing's horizon, when any do. */
  dueSoon: DueSoon | undefined;
  /** Since when nothing has waited, run or arrived (or come due within a start-up). */
  idleSinceMs: number | undefined;
  /** Since when nothing has waited or arrived, where the format sees arrivals while empty. */
  quietSinceMs: number | undefined;
}

export interface DueSoon {
  jobs: number;
  /** The reader's horizon that covers the target, a pod start-up and a poll. */
  withinSeconds: number;
}

export function observe({ input, reading }: { input: ScaleInput; reading: QueueReading }): Observation {
  const { scaling, nowMs, currentReplicas } = input;
  const observed = observeReading(input.state, reading, observationContext(input, reading));
  const unmeasuredSinceMs = unmeasuredSince(input, reading, serviceTimeSeconds(observed.service));
  const signals = estimateSignals({ input, reading, observed, unmeasuredSinceMs });
  const waiting = waitingForReplicas(reading);
  const ready = servingReplicas(Math.min(input.readyReplicas, currentReplicas), reading);
  const dueSoon = scheduledDueSoon(input, reading);
  const idle =
    waiting === 0 &&
    dueSoon === undefined &&
    (reading.busy ?? 0) === 0 &&
    !lumpLanded(input.state.lastSample, observed.lastSample) &&
    (reading.paused === true || (observed.arrivedSinceLast ?? 0) === 0);
  const quiet =
    waiting === 0 && dueSoon === undefined && seesArrivalsWhileEmpty(reading) && (observed.arrivedSinceLast ?? 0) === 0;
  return {
    observed,
    signals,
    waiting,
    servingReplicas: ready,
    countsArrivals: arrivalsCounted(
      countsEveryCompletion(profileOfReading(input.format, reading), reading),
      observed.completionSpan,
    ),
    sizingInput: {
      targetSeconds: scaling.targetLatencySeconds,
      pollSeconds: scaling.pollIntervalSeconds,
      startupSeconds: scaling.podStartupSeconds,
      concurrencyPerReplica: concurrencyPerReplica(reading, scaling.concurrency),
      arrivalRate: signals.plannedArrivalRatePerSecond,
      sustainedArrivalRate: signals.sustainedArrivalRatePerSecond,
      serviceTimeSeconds: signals.serviceTimeSeconds,
      waiting,
      oldestAgeSeconds: reading.paused === true ? 0 : reading.oldestJobAgeSeconds,
      busy: servingBusy(reading),
      readyReplicas: ready,
      startingReplicas: Math.max(0, currentReplicas - input.readyReplicas),
      startingReadyInSeconds: startingReadyIn(input),
      startingBatches: startingBatches(input),
      scheduled: scheduledJobs(reading),
    },
    dueSoon,
    unmeasuredSinceMs,
    idleSinceMs: idle ? (input.state.idleSinceMs ?? nowMs) : undefined,
    quietSinceMs: quiet ? (input.state.quietSinceMs ?? nowMs) : undefined,
  };
}

/** Jobs one replica runs at once: what live workers report, else the spec. */
export function concurrencyPerReplica(reading: QueueReading, specConcurrency: number): number {
  const serving = (reading.workers ?? []).filter((worker) => !worker.draining && worker.concurrency > 0);
  if (serving.length === 0) return specConcurrency;
  return serving.reduce((sum, worker) => sum + worker.concurrency, 0) / serving.length;
}

/**
 * Ready replicas that take jobs. A worker that announced it drains (Sidekiq quiet, native
 * draining) is not serving capacity; a ready pod whose first heartbeat has not come yet is.
 * Terminating pods are not ready, so their draining heartbeats do not count twice.
 */
export function servingReplicas(readyReplicas: number, reading: QueueReading): number {
  const workers = reading.workers;
  if (workers === undefined) return readyReplicas;
  const draining = workers.filter((worker) => worker.draining).length;
  const withoutHeartbeat = Math.max(0, readyReplicas - workers.length);
  return Math.max(0, Math.min(readyReplicas, workers.length - draining + withoutHeartbeat));
}

/** Jobs running on serving replicas: the busy count without what draining workers still finish. */
export function servingBusy(reading: QueueReading): number | undefined {
  if (reading.busy === undefined) return undefined;
  const drainingBusy = (reading.workers ?? [])
    .filter((worker) => worker.draining)
    .reduce((sum, worker) => sum + worker.busy, 0);
  return Math.max(0, reading.busy - drainingBusy);
}

export function observationContext(input: ScaleInput, reading: QueueReading): ObservationContext {
  const ready = servingReplicas(Math.min(input.readyReplicas, input.currentReplicas), reading);
  return {
    profile: profileOfReading(input.format, reading),
    servingSlots: ready * concurrencyPerReplica(reading, input.scaling.concurrency),
    scheduledCameDue: scheduledCameDue(input.state.lastSample, reading.observedAtMs),
  };
}

/** A format that reports the jobs in flight still sees work arrive while its queue is empty. */
export function seesArrivalsWhileEmpty(reading: QueueReading): boolean {
  return reading.busy !== undefined;
}

/**
 * Jobs waiting for a replica. A paused queue (BullMQ meta.paused) hands no job to any worker,
 * so its waiting jobs are not work that more replicas would start.
 */
function waitingForReplicas(reading: QueueReading): number {
  return reading.paused === true ? 0 : reading.depth + reading.dueScheduled;
}

/**
 * Before any measurement the engine must still size a backlog, from the backlog and the target
 * rather than a slot per job: it assumes jobs as short as a poll, and, where the pool counts its
 * completions, the longer jobs run without one completing, as long as they have run — up to the
 * target, beyond which a job needs a slot of its own anyway.
 */
export function assumedServiceSeconds(
  unmeasuredForSeconds: number,
  scaling: Pick<ScalingSpec, 'pollIntervalSeconds' | 'targetLatencySeconds'>,
): number {
  return Math.min(scaling.targetLatencySeconds, Math.max(scaling.pollIntervalSeconds, unmeasuredForSeconds));
}

/** Since when jobs have been running with no completion counted; undefined once one is. */
function unmeasuredSince(input: ScaleInput, reading: QueueReading, measured: number | undefined): number | undefined {
  // Without a counter of the pool's completions, time without a measurement says nothing about
  // how long jobs run (a queue that never backs up is never measured): stay at one poll. Nor
  // does a counter that moves only at heartbeats, which shows nothing for a heartbeat however
  // short the jobs.
  if (measured !== undefined || !countsEveryCompletion(profileOfReading(input.format, reading), reading))
    return undefined;
  const running = (reading.busy ?? 0) > 0;
  return running ? (input.state.unmeasuredSinceMs ?? input.nowMs) : input.state.unmeasuredSinceMs;
}

/**
 * The jobs waiting in a FIFO queue are exactly those that arrived since the oldest of them, so
 * depth / oldest age is the arrival rate over that time — at the second poll of a burst, long
 * before the decayed averages have caught up. Only while the queue keeps growing: the first
 * poll after a one-off burst looks the same as the first poll of a lasting one, and sizing a
 * one-off backlog as a lasting rate is what sent a cold pool straight to maxReplicas. An age of
 * less than half a poll says little.
 */
export const QUEUED_RATE_SUSTAINED_POLLS = 1;
/**
 * ...and only when it stands out of its own count noise: n jobs that arrived over the oldest
 * age are a Poisson count with a relative deviation of 1 / sqrt(n), and a pool that keeps up
 * has a short queue most polls. Taking every such reading at face value ratcheted a slow ramp
 * up and held it there (the down window keeps the peak): the queue's rate counts when it is
 * this many deviations above the averages. Checked every poll, so far out in the tail.
 */
export const QUEUED_RATE_SIGMAS = 4;

function queuedArrivalRate({
  input,
  reading,
  minimumAgeSeconds,
  averaged,
}: {
  input: ScaleInput;
  reading: QueueReading;
  minimumAgeSeconds: number;
  averaged: number;
}): number {
  const age = reading.oldestJobAgeSeconds;
  const previous = input.state.lastSample;
  // A queue that grew by scheduled jobs coming due grew by schedule, not by a faster rate.
  const growing =
    previous !== undefined &&
    previous.depth > 0 &&
    reading.depth > previous.depth &&
    scheduledCameDue(previous, reading.observedAtMs) === 0;
  if (!growing || reading.paused === true || age === undefined || age <= 0 || age < minimumAgeSeconds) return 0;
  const rate = reading.depth / age;
  return rate > averaged * (1 + QUEUED_RATE_SIGMAS / Math.sqrt(reading.depth)) ? rate : 0;
}

function estimateSignals({
  input,
  reading,
  observed,
  unmeasuredSinceMs,
}: {
  input: ScaleInput;
  reading: QueueReading;
  observed: ObservedSignals;
  unmeasuredSinceMs: number | undefined;
}): SignalEstimate {
  const { scaling } = input;
  const rates = plannedArrivalRate(
    observed.arrivalsFast,
    observed.arrivalsSlow,
    scaling.podStartupSeconds + scaling.pollIntervalSeconds,
    arrivalsCountedOverSeconds(observed),
  );
  const measured = serviceTimeSeconds(observed.service);
  const service =
    measured ??
    assumedServiceSeconds(unmeasuredSinceMs === undefined ? 0 : (input.nowMs - unmeasuredSinceMs) / 1000, scaling);
  const concurrency = concurrencyPerReplica(reading, scaling.concurrency);
  const poll = scaling.pollIntervalSeconds;
  return {
    arrivalRatePerSecond: rates.current,
    plannedArrivalRatePerSecond: Math.max(
      rates.planned,
      queuedArrivalRate({ input, reading, minimumAgeSeconds: poll / 2, averaged: rates.planned }),
    ),
    sustainedArrivalRatePerSecond: Math.max(
      rates.sustained,
      queuedArrivalRate({
        input,
        reading,
        minimumAgeSeconds: poll * QUEUED_RATE_SUSTAINED_POLLS,
        averaged: rates.sustained,
      }),
    ),
    serviceTimeSeconds: service,
    serviceEstimate: measured === undefined ? 'assumed' : (observed.serviceEstimate ?? 'assumed'),
    perReplicaJobsPerSecond: concurrency / service,
    depth: reading.depth + reading.dueScheduled,
    oldestJobAgeSeconds: reading.oldestJobAgeSeconds,
    queuePaused: reading.paused === true,
  };
}

/** Seconds until the replicas added last are expected to take jobs. */
function startingReadyIn(input: ScaleInput): number {
  const startup = input.scaling.podStartupSeconds;
  const since = input.state.lastScaleUpAtMs;
  if (since === undefined) return startup;
  return Math.max(0, startup - (input.nowMs - since) / 1000);
}

/**
 * The replicas not ready yet, by the scale-up that asked for each (the newest pods are the ones
 * still starting): a pod asked for 8 s ago is ready 8 s before one asked for now. Pods older than
 * the remembered scale-ups are taken to be as late as the latest one.
 */
function startingBatches(input: ScaleInput): StartingBatch[] {
  const startup = input.scaling.podStartupSeconds;
  let left = Math.max(0, input.currentReplicas - input.readyReplicas);
  const batches: StartingBatch[] = [];
  const events = input.state.scaleEvents;
  for (let index = events.length - 1; index >= 0 && left > 0; index -= 1) {
    const event = events[index] as ScaleEvent;
    if (event.change <= 0) continue;
    const replicas = Math.min(left, event.change);
    batches.push({ replicas, readyInSeconds: Math.max(0, startup - (input.nowMs - event.atMs) / 1000) });
    left -= replicas;
  }
  if (left > 0) batches.push({ replicas: left, readyInSeconds: startingReadyIn(input) });
  return batches;
}

/**
 * The reader's cumulative counts of scheduled jobs as batches, each at the start of its interval
 * (the earliest its jobs may come due), so that pods are never planned late. A paused queue
 * hands out no job, scheduled or not.
 */
function scheduledJobs(reading: QueueReading): ScheduledJobs[] {
  const upcoming = reading.upcoming;
  if (upcoming === undefined || reading.paused === true) return [];
  const batches: ScheduledJobs[] = [];
  let before = 0;
  upcoming.dueWithin.forEach((count, index) => {
    const dueWithinSeconds = upcoming.horizonsSeconds[index] ?? 0;
    const dueInSeconds = upcoming.earliestDueInSeconds?.[index] ?? upcoming.horizonsSeconds[index - 1] ?? 0;
    if (count > before) batches.push({ dueInSeconds, dueWithinSeconds, jobs: count - before });
    before = Math.max(before, count);
  });
  return batches;
}

/**
 * Scheduled jobs due within the sizing's horizon (the target, a pod start-up and a poll): a pool
 * that has them is not idle, and its pods stay for them.
 */
function scheduledDueSoon(input: ScaleInput, reading: QueueReading): DueSoon | undefined {
  const upcoming = reading.upcoming;
  if (upcoming === undefined || reading.paused === true) return undefined;
  const { scaling } = input;
  const lead = scaling.targetLatencySeconds + scaling.podStartupSeconds + scaling.pollIntervalSeconds;
  const last = upcoming.horizonsSeconds.length - 1;
  const found = upcoming.horizonsSeconds.findIndex((horizon) => horizon >= lead);
  const index = found < 0 ? last : found;
  const jobs = upcoming.dueWithin[index] ?? 0;
  return jobs > 0 ? { jobs, withinSeconds: upcoming.horizonsSeconds[index] ?? lead } : undefined;
}
