import { capacityCeiling, type CapacityCeiling } from './queue-capacity.ts';
import { describeQueueBound, sizeForQueueTargets, type QueueBound } from './queue-targets.ts';
import { DEFAULT_SCALE_DOWN_WINDOW_SECONDS, type ScalingSpec } from '../api/workerpool-schema.ts';
import type { QueueReading } from '../signals/queue-reading.ts';
import { poolCompletions, profileOfReading } from '../signals/signal-profile.ts';
import { limitRate, longestPeriodSeconds, rememberScaleEvent } from './rate-limits.ts';
import { describeChange, describeSignals, formatNumber } from './reason.ts';
import {
  observeReading,
  plannedArrivalRate,
  arrivalsDropping,
  serviceTimeSeconds,
  type ObservationContext,
  type ObservedSignals,
} from './signal-estimates.ts';
import type { Sizing, SizingBinding, SizingInput } from './sizing.ts';
import { FALLING_DOWN_WINDOW_SECONDS, rememberRecommendation, spacedScaleDown, stabilize } from './stabilization.ts';
import {
  SCALE_REASONS,
  type Decision,
  type ScaleInput,
  type ScaleReasonCode,
  type ScalerState,
  type SignalEstimate,
} from './types.ts';

// The engine: one pure function from (spec, latest reading, replicas, previous state, clock) to
// (desired replicas, reason, next state). The controller calls it once per poll and per pool;
// the simulator calls the very same function on virtual time.

/** A reading older than this many poll intervals is stale: the engine treats it as missing. */
export const STALE_AFTER_POLL_INTERVALS = 3;
/** ...but never stale sooner than this, so that a 1 s poll tolerates a slow Redis round trip. */
export const STALE_AFTER_MIN_SECONDS = 10;
/** How long a pool must be idle before the engine sizes it for no load at all. */
export const IDLE_POOL_AFTER_SECONDS = 30;
/**
 * How long a pool that sees its jobs in flight must find nothing waiting and nothing arriving
 * before the down window lets go of the load it remembers: a batch that is done leaves nothing
 * for the held replicas to do but the jobs still running.
 */
export const QUIET_RELEASE_SECONDS = 2;

export function decideScale(input: ScaleInput): Decision {
  if (input.pinnedReplicas !== undefined) {
    const pinned = input.pinnedReplicas;
    return manualDecision(
      input,
      pinned,
      SCALE_REASONS.pinned,
      `pinned to ${pinned} by spec.replicas: ${describeChange(input.currentReplicas, pinned)}`,
    );
  }
  if (input.paused === true) {
    return manualDecision(
      input,
      input.currentReplicas,
      SCALE_REASONS.paused,
      `paused: ${describeChange(input.currentReplicas, input.currentReplicas)}`,
    );
  }
  const reading = usableReading(input);
  if (reading === undefined) return decideWithoutSignals(input);
  return decideFromSignals(input, reading);
}

/** The reading, unless it is missing or too old to act on. */
export function usableReading(input: Pick<ScaleInput, 'reading' | 'nowMs' | 'scaling'>): QueueReading | undefined {
  const reading = input.reading;
  if (reading === undefined) return undefined;
  const staleAfterMs =
    Math.max(STALE_AFTER_POLL_INTERVALS * input.scaling.pollIntervalSeconds, STALE_AFTER_MIN_SECONDS) * 1000;
  return input.nowMs - reading.observedAtMs > staleAfterMs ? undefined : reading;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/** Pinned or paused: no autoscaling, but readings still feed the estimates for when it resumes. */
function manualDecision(input: ScaleInput, desired: number, reasonCode: ScaleReasonCode, reason: string): Decision {
  const reading = usableReading(input);
  const state: ScalerState =
    reading === undefined
      ? input.state
      : withObserved(input.state, observeReading(input.state, reading, observationContext(input, reading)));
  return {
    desiredReplicas: desired,
    recommendedReplicas: desired,
    reasonCode,
    reason,
    signals: undefined,
    state: { ...state, recommendations: [], idleSinceMs: undefined },
  };
}

function withObserved(state: ScalerState, observed: ObservedSignals): ScalerState {
  return {
    ...state,
    arrivalsFast: observed.arrivalsFast,
    arrivalsSlow: observed.arrivalsSlow,
    service: observed.service,
    serviceEstimate: observed.serviceEstimate,
    lastSample: observed.lastSample,
    failingSinceMs: undefined,
  };
}

/**
 * Signals missing or stale: never scale down blind. Hold the current size (within min/max), or,
 * after failureThresholdSeconds, raise to fallback.replicas when that is more.
 */
function decideWithoutSignals(input: ScaleInput): Decision {
  const { scaling, nowMs, currentReplicas } = input;
  const failingSinceMs = input.state.failingSinceMs ?? nowMs;
  const failingSeconds = (nowMs - failingSinceMs) / 1000;
  const hold = clamp(currentReplicas, scaling.minReplicas, scaling.maxReplicas);
  const state: ScalerState = { ...input.state, failingSinceMs, idleSinceMs: undefined };
  const fallback = scaling.fallback;
  if (fallback !== undefined && failingSeconds >= fallback.failureThresholdSeconds) {
    const desired = Math.max(hold, Math.min(fallback.replicas, scaling.maxReplicas));
    const reason = `signals unavailable for ${formatNumber(failingSeconds)}s (threshold ${fallback.failureThresholdSeconds}s), fallback ${fallback.replicas} replicas: ${describeChange(currentReplicas, desired)}`;
    return {
      desiredReplicas: desired,
      recommendedReplicas: desired,
      reasonCode: SCALE_REASONS.fallback,
      reason,
      signals: undefined,
      state: recordChange(state, scaling, nowMs, currentReplicas, desired),
    };
  }
  const reason = `signals unavailable for ${formatNumber(failingSeconds)}s: ${describeChange(currentReplicas, hold)}`;
  return {
    desiredReplicas: hold,
    recommendedReplicas: hold,
    reasonCode: SCALE_REASONS.signalsUnavailable,
    reason,
    signals: undefined,
    state: recordChange(state, scaling, nowMs, currentReplicas, hold),
  };
}

function recordChange(
  state: ScalerState,
  scaling: ScalingSpec,
  nowMs: number,
  current: number,
  desired: number,
): ScalerState {
  const keep = longestPeriodSeconds([scaling.scaleUp, scaling.scaleDown]);
  return {
    ...state,
    scaleEvents: rememberScaleEvent(state.scaleEvents, nowMs, desired - current, keep),
    lastScaleUpAtMs: desired > current ? nowMs : state.lastScaleUpAtMs,
    lastScaleDownAtMs: desired < current ? nowMs : state.lastScaleDownAtMs,
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
function servingBusy(reading: QueueReading): number | undefined {
  if (reading.busy === undefined) return undefined;
  const drainingBusy = (reading.workers ?? [])
    .filter((worker) => worker.draining)
    .reduce((sum, worker) => sum + worker.busy, 0);
  return Math.max(0, reading.busy - drainingBusy);
}

function observationContext(input: ScaleInput, reading: QueueReading): ObservationContext {
  const ready = servingReplicas(Math.min(input.readyReplicas, input.currentReplicas), reading);
  return {
    profile: profileOfReading(input.format, reading),
    servingSlots: ready * concurrencyPerReplica(reading, input.scaling.concurrency),
  };
}

/**
 * Jobs waiting for a replica. A paused queue (BullMQ meta.paused) hands no job to any worker,
 * so its waiting jobs are not work that more replicas would start.
 */
function waitingForReplicas(reading: QueueReading): number {
  return reading.paused === true ? 0 : reading.depth + reading.dueScheduled;
}

interface Recommendation {
  replicas: number;
  /** What a scale-down may go to (the sizing's headroom), within the same bounds. */
  keepReplicas: number;
  code: ScaleReasonCode;
  /** Wake-up and scale to zero skip the windows: the idle period already was the window. */
  bypassWindows: boolean;
  /** The queue's own capacity held the sizing below what the load asks for. */
  capped?: { bound: string; askedReplicas: number };
  /** Nothing waits or arrives: the windows let go (quietRelease). */
  quiet?: true;
  /** A queue's own latency target asked for more than the pool's (queue-targets.ts). */
  queue?: QueueBound;
}

function decideFromSignals(input: ScaleInput, reading: QueueReading): Decision {
  const { scaling, nowMs, currentReplicas } = input;
  const observed = observeReading(input.state, reading, observationContext(input, reading));
  const unmeasuredSinceMs = unmeasuredSince(input, reading, serviceTimeSeconds(observed.service));
  const signals = estimateSignals(input, reading, observed, unmeasuredSinceMs);
  const waiting = waitingForReplicas(reading);
  const ready = servingReplicas(Math.min(input.readyReplicas, currentReplicas), reading);
  const sizingInput: SizingInput = {
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
  };
  // Draining pods (Sidekiq quiet) still count in the Deployment's replicas: keep them on top of
  // what the serving ones must do, while there is work.
  const tightest = sizeForQueueTargets(sizingInput, scaling.queueTargetLatencySeconds, reading.queues);
  const sized = tightest.sizing;
  const heldByDraining = Math.min(input.readyReplicas, currentReplicas) - ready;
  const sizing =
    sized.replicas > 0
      ? { ...sized, replicas: sized.replicas + heldByDraining, keepReplicas: sized.keepReplicas + heldByDraining }
      : sized;
  const idle =
    waiting === 0 && (reading.busy ?? 0) === 0 && (reading.paused === true || (observed.arrivedSinceLast ?? 0) === 0);
  const idleSinceMs = idle ? (input.state.idleSinceMs ?? nowMs) : undefined;
  const quiet = waiting === 0 && seesArrivalsWhileEmpty(reading) && (observed.arrivedSinceLast ?? 0) === 0;
  const quietSinceMs = quiet ? (input.state.quietSinceMs ?? nowMs) : undefined;
  const ceiling = capacityCeiling(reading.capacity, sizingInput.concurrencyPerReplica, signals);
  const released = quietRelease(input, reading, quietSinceMs);
  const recommendation = recommend(
    input,
    idleAwhile(sizing, idleSinceMs, nowMs),
    waiting,
    idleSinceMs,
    ceiling,
    released,
    tightest.bound,
  );
  const windowed = recommendation.bypassWindows
    ? recommendation.replicas
    : spacedScaleDown(
        currentReplicas,
        input.state.lastScaleDownAtMs === undefined ? Infinity : (nowMs - input.state.lastScaleDownAtMs) / 1000,
        stabilize({
          nowMs,
          currentReplicas,
          recommendation: recommendation.replicas,
          keepRecommendation: recommendation.keepReplicas,
          history: input.state.recommendations,
          upWindowSeconds: scaling.scaleUp.stabilizationWindowSeconds,
          downWindowSeconds: downWindowSeconds(scaling, reading, observed),
        }),
      );
  const limited = limitRate({
    nowMs,
    currentReplicas,
    desiredReplicas: windowed,
    events: input.state.scaleEvents,
    scaleUp: scaling.scaleUp,
    scaleDown: scaling.scaleDown,
  });
  // Waking from zero must add a replica even when a Percent policy allows 0 % of 0.
  const desired = recommendation.code === SCALE_REASONS.wakeFromZero ? Math.max(1, limited) : limited;
  const code = limiterCode(recommendation, windowed, limited, desired);
  const keepSeconds = Math.max(
    scaling.scaleUp.stabilizationWindowSeconds,
    scaling.scaleDown.stabilizationWindowSeconds,
  );
  const state: ScalerState = {
    ...withObserved(input.state, observed),
    recommendations: rememberRecommendation(
      input.state.recommendations,
      { atMs: nowMs, replicas: recommendation.replicas },
      keepSeconds,
    ),
    idleSinceMs,
    quietSinceMs,
    unmeasuredSinceMs,
  };
  return {
    desiredReplicas: desired,
    recommendedReplicas: recommendation.replicas,
    reasonCode: code,
    reason: explain(scaling.targetLatencySeconds, signals, currentReplicas, desired, recommendation, code),
    signals,
    state: recordChange(state, scaling, nowMs, currentReplicas, desired),
  };
}

/**
 * The down window is there for noise: a load that dips and comes back. While the arrival rate
 * has really dropped (arrivalsDropping), holding the highest need of 45 s keeps replicas for a
 * load that is gone, so the window shortens to FALLING_DOWN_WINDOW_SECONDS. Not with depth
 * alone: there an empty queue hides every arrival, and each time it empties the rate seems to
 * drop.
 */
function downWindowSeconds(scaling: ScalingSpec, reading: QueueReading, observed: ObservedSignals): number {
  const configured = scaling.scaleDown.stabilizationWindowSeconds;
  return letsGoSooner(scaling) &&
    seesArrivalsWhileEmpty(reading) &&
    arrivalsDropping(observed.arrivalsFast, observed.arrivalsSlow)
    ? Math.min(configured, FALLING_DOWN_WINDOW_SECONDS)
    : configured;
}

function limiterCode(
  recommendation: Recommendation,
  windowed: number,
  limited: number,
  desired: number,
): ScaleReasonCode {
  if (desired === recommendation.replicas) return recommendation.code;
  if (windowed !== recommendation.replicas) return SCALE_REASONS.stabilized;
  return limited !== windowed ? SCALE_REASONS.rateLimited : recommendation.code;
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
  // how long jobs run (a queue that never backs up is never measured): stay at one poll.
  if (measured !== undefined || poolCompletions(profileOfReading(input.format, reading), reading) === undefined)
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

function queuedArrivalRate(
  input: ScaleInput,
  reading: QueueReading,
  minimumAgeSeconds: number,
  averaged: number,
): number {
  const age = reading.oldestJobAgeSeconds;
  const previous = input.state.lastSample;
  const growing = previous !== undefined && previous.depth > 0 && reading.depth > previous.depth;
  if (!growing || reading.paused === true || age === undefined || age <= 0 || age < minimumAgeSeconds) return 0;
  const rate = reading.depth / age;
  return rate > averaged * (1 + QUEUED_RATE_SIGMAS / Math.sqrt(reading.depth)) ? rate : 0;
}

function estimateSignals(
  input: ScaleInput,
  reading: QueueReading,
  observed: ObservedSignals,
  unmeasuredSinceMs: number | undefined,
): SignalEstimate {
  const { scaling } = input;
  const rates = plannedArrivalRate(
    observed.arrivalsFast,
    observed.arrivalsSlow,
    scaling.podStartupSeconds + scaling.pollIntervalSeconds,
  );
  const measured = serviceTimeSeconds(observed.service);
  const service =
    measured ??
    assumedServiceSeconds(unmeasuredSinceMs === undefined ? 0 : (input.nowMs - unmeasuredSinceMs) / 1000, scaling);
  const concurrency = concurrencyPerReplica(reading, scaling.concurrency);
  return {
    arrivalRatePerSecond: rates.current,
    plannedArrivalRatePerSecond: Math.max(
      rates.planned,
      queuedArrivalRate(input, reading, scaling.pollIntervalSeconds / 2, rates.planned),
    ),
    sustainedArrivalRatePerSecond: Math.max(
      rates.sustained,
      queuedArrivalRate(input, reading, scaling.pollIntervalSeconds * QUEUED_RATE_SUSTAINED_POLLS, rates.sustained),
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

const BINDING_REASONS: Record<SizingBinding, ScaleReasonCode> = {
  latency: SCALE_REASONS.latency,
  backlog: SCALE_REASONS.backlog,
  arrivalRate: SCALE_REASONS.arrivalRate,
  idle: SCALE_REASONS.idle,
};

/**
 * A pool with nothing waiting, nothing running and nothing arriving for IDLE_POOL_AFTER_SECONDS
 * needs no replica, whatever its estimates still remember of the last burst: this is what
 * brings a pool whose format measures little (a plain list) back to its minimum.
 */
function idleAwhile(sizing: Sizing, idleSinceMs: number | undefined, nowMs: number): Sizing {
  if (idleSinceMs === undefined || nowMs - idleSinceMs < IDLE_POOL_AFTER_SECONDS * 1000) return sizing;
  return { ...sizing, replicas: 0, keepReplicas: 0, binding: 'idle' };
}

/**
 * A pool that asks for a down window longer than the default has chosen to hold its replicas
 * (warm caches, costly starts, an HPA configuration carried over): the engine holds it as set.
 */
function letsGoSooner(scaling: ScalingSpec): boolean {
  return scaling.scaleDown.stabilizationWindowSeconds <= DEFAULT_SCALE_DOWN_WINDOW_SECONDS;
}

/** A format that reports the jobs in flight still sees work arrive while its queue is empty. */
function seesArrivalsWhileEmpty(reading: QueueReading): boolean {
  return reading.busy !== undefined;
}

/**
 * The replicas a quiet pool still needs, once it has been quiet for QUIET_RELEASE_SECONDS; else
 * undefined. The down window guards against a load that dips and comes back; with nothing
 * waiting and nothing arriving there is no load, and the replicas it holds only idle, so the
 * pool keeps those its running jobs fill. Only where the format reports the jobs in flight (an
 * empty list cannot tell idle from keeping up) and counts arrivals while the queue is empty.
 */
function quietRelease(input: ScaleInput, reading: QueueReading, quietSinceMs: number | undefined): number | undefined {
  if (!letsGoSooner(input.scaling)) return undefined;
  if (quietSinceMs === undefined || input.nowMs - quietSinceMs < QUIET_RELEASE_SECONDS * 1000) return undefined;
  return Math.ceil((servingBusy(reading) ?? 0) / concurrencyPerReplica(reading, input.scaling.concurrency));
}

/**
 * The sizing within min/max and below the queue's own capacity (minReplicas still wins), with
 * scale to zero after the idle period, wake from zero, and an idle pool released from the down
 * window.
 */
function recommend(
  input: ScaleInput,
  sizing: Sizing,
  waiting: number,
  idleSinceMs: number | undefined,
  ceiling: CapacityCeiling | undefined,
  released: number | undefined,
  queueBound: QueueBound | undefined,
): Recommendation {
  const { scaling, currentReplicas } = input;
  if (released !== undefined && currentReplicas > 0 && !idleToZero(input, idleSinceMs)) {
    const kept = clamp(released, Math.max(1, scaling.minReplicas), scaling.maxReplicas);
    return { replicas: kept, keepReplicas: kept, code: SCALE_REASONS.idle, bypassWindows: true, quiet: true };
  }
  const high = Math.min(scaling.maxReplicas, ceiling?.replicas ?? Infinity);
  const capped =
    ceiling !== undefined && ceiling.replicas < scaling.maxReplicas && sizing.replicas > high
      ? { bound: ceiling.bound, askedReplicas: Math.min(sizing.replicas, scaling.maxReplicas) }
      : undefined;
  const queue = sizing.binding === 'idle' ? undefined : queueBound;
  const bindingCode = queue === undefined ? BINDING_REASONS[sizing.binding] : SCALE_REASONS.queueLatency;
  const code = capped === undefined ? bindingCode : SCALE_REASONS.queueCapacity;
  const within = (low: number) => ({
    replicas: clamp(sizing.replicas, low, Math.max(low, high)),
    keepReplicas: clamp(sizing.keepReplicas, low, Math.max(low, high)),
    ...(capped === undefined ? {} : { capped }),
    ...(queue === undefined ? {} : { queue }),
  });
  if (scaling.minReplicas > 0) return { ...within(scaling.minReplicas), code, bypassWindows: false };
  if (currentReplicas === 0) {
    if (waiting === 0) return { replicas: 0, keepReplicas: 0, code: SCALE_REASONS.idle, bypassWindows: true };
    return { ...within(1), code: SCALE_REASONS.wakeFromZero, bypassWindows: true };
  }
  if (idleToZero(input, idleSinceMs)) {
    return { replicas: 0, keepReplicas: 0, code: SCALE_REASONS.scaleToZero, bypassWindows: true };
  }
  // Until the idle period has passed, keep one replica: a job arriving now starts at once.
  return { ...within(1), code, bypassWindows: false };
}

function idleToZero(input: ScaleInput, idleSinceMs: number | undefined): boolean {
  return (
    input.scaling.minReplicas === 0 &&
    idleSinceMs !== undefined &&
    input.nowMs - idleSinceMs >= input.scaling.scaleToZeroAfterSeconds * 1000
  );
}

function explain(
  target: number,
  signals: SignalEstimate,
  current: number,
  desired: number,
  recommendation: Recommendation,
  code: ScaleReasonCode,
): string {
  const change = describeChange(current, desired);
  const recommended = recommendation.replicas;
  const tier = recommendation.queue === undefined ? '' : `${describeQueueBound(recommendation.queue)}; `;
  const base = `${tier}${describeSignals(signals, target)}: ${change}`;
  const cap =
    recommendation.capped === undefined
      ? ''
      : ` (capped by the ${recommendation.capped.bound}: load asks for ${recommendation.capped.askedReplicas})`;
  if (code === SCALE_REASONS.stabilized) return `${base} (stabilization window holds it; load asks for ${recommended})`;
  if (code === SCALE_REASONS.rateLimited) return `${base} (rate limited; load asks for ${recommended})`;
  if (code === SCALE_REASONS.scaleToZero) return `idle for the scale-to-zero period: ${change}`;
  if (code === SCALE_REASONS.wakeFromZero) return `${base} (waking from zero)${cap}`;
  if (recommendation.quiet === true) return `${base} (nothing waiting or arriving: keeping the replicas jobs run on)`;
  return `${base}${cap}`;
}
