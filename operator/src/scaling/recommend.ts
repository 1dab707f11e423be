import { DEFAULT_SCALE_DOWN_WINDOW_SECONDS, type ScalingSpec } from '../api/workerpool-schema.ts';
import type { QueueReading } from '../signals/queue-reading.ts';
import type { Observation } from './observe.ts';
import { concurrencyPerReplica, servingBusy } from './observe.ts';
import type { CapacityCeiling } from './queue-capacity.ts';
import type { QueueBound } from './queue-targets.ts';
import type { Sizing, SizingBinding } from './sizing.ts';
import { SCALE_REASONS, type ScaleInput, type ScaleReasonCode } from './types.ts';

// The engine's recommend stage: the sizing turned into the replicas this poll asks for, within
// min/max and the queue's own capacity, with the rules of an empty pool (scale to zero, wake
// from zero, a done batch released from the down window). Windows and rate limits come after.

/**
 * How long a pool that sees its jobs in flight must find nothing waiting and nothing arriving
 * before the down window lets go of the load it remembers: a batch that is done leaves nothing
 * for the held replicas to do but the jobs still running.
 */
export const QUIET_RELEASE_SECONDS = 2;

export interface Recommendation {
  replicas: number;
  /** What a scale-down may go to (the sizing's headroom), within the same bounds. */
  keepReplicas: number;
  /** What the arrival rate alone asks for, within the same bounds (see TimedReplicas.forArrivals). */
  forArrivals?: number;
  code: ScaleReasonCode;
  /** Wake-up and scale to zero skip the windows: the idle period already was the window. */
  bypassWindows: boolean;
  /** The queue's own capacity held the sizing below what the load asks for. */
  capped?: { bound: string; askedReplicas: number };
  /** Nothing waits or arrives: the windows let go (quietRelease). */
  quiet?: true;
  /** A queue's own latency target asked for more than the pool's (queue-targets.ts). */
  queue?: QueueBound;
  /** Scheduled jobs coming due asked for more than the rest of the load. */
  scheduled?: ScheduledNeed;
  /** The learned pattern's forecast asked for more than the reactive need (predict.ts). */
  forecast?: ForecastNeed;
}

/** The forecast rate that raised the need, for lastScaleReason. */
export interface ForecastNeed {
  ratePerSecond: number;
}

/** The scheduled jobs that set the need, for lastScaleReason: "3,000 jobs due in 40s". */
export interface ScheduledNeed {
  jobs: number;
  /** Seconds until the soonest of them comes due. */
  withinSeconds: number;
}

/** What the size stage hands on: the need, which rule set it, and the queue's own ceiling. */
export interface SizedNeed {
  sizing: Sizing;
  /** Replicas for the planned arrival rate alone, with the scale-down headroom. */
  forArrivals: number;
  /** Scheduled jobs coming due asked for more than the rest of the load. */
  scheduled: ScheduledNeed | undefined;
  queueBound: QueueBound | undefined;
  ceiling: CapacityCeiling | undefined;
  /** Set by the predict stage when the forecast raised the need. */
  forecast?: ForecastNeed;
}

const BINDING_REASONS: Record<SizingBinding, ScaleReasonCode> = {
  latency: SCALE_REASONS.latency,
  backlog: SCALE_REASONS.backlog,
  arrivalRate: SCALE_REASONS.arrivalRate,
  idle: SCALE_REASONS.idle,
};

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/**
 * The sizing within min/max and below the queue's own capacity (minReplicas still wins), with
 * scale to zero after the idle period, wake from zero, and an idle pool released from the down
 * window.
 */
export function recommend({
  input,
  reading,
  observation,
  need,
}: {
  input: ScaleInput;
  reading: QueueReading;
  observation: Observation;
  need: SizedNeed;
}): Recommendation {
  const { scaling, currentReplicas } = input;
  const { sizing, ceiling } = need;
  const { idleSinceMs } = observation;
  // A forecast rise keeps the replicas it asked for through a quiet spell before it lands.
  const forecast = need.forecast;
  const released =
    forecast === undefined
      ? quietRelease({
          input,
          reading,
          quietSinceMs: observation.quietSinceMs,
          serviceSeconds: observation.signals.serviceTimeSeconds,
        })
      : undefined;
  if (released !== undefined && currentReplicas > 0 && !idleToZero(input, idleSinceMs)) {
    const kept = clamp(released, Math.max(1, scaling.minReplicas), scaling.maxReplicas);
    return { replicas: kept, keepReplicas: kept, code: SCALE_REASONS.idle, bypassWindows: true, quiet: true };
  }
  const high = Math.min(scaling.maxReplicas, ceiling?.replicas ?? Infinity);
  const capped =
    ceiling !== undefined && ceiling.replicas < scaling.maxReplicas && sizing.replicas > high
      ? { bound: ceiling.bound, askedReplicas: Math.min(sizing.replicas, scaling.maxReplicas) }
      : undefined;
  const queue = sizing.binding === 'idle' ? undefined : need.queueBound;
  const scheduled = need.scheduled;
  const bindingCode =
    scheduled !== undefined
      ? SCALE_REASONS.scheduled
      : forecast !== undefined
        ? SCALE_REASONS.forecast
        : queue === undefined
          ? BINDING_REASONS[sizing.binding]
          : SCALE_REASONS.queueLatency;
  const code = capped === undefined ? bindingCode : SCALE_REASONS.queueCapacity;
  const within = (low: number) => ({
    replicas: clamp(sizing.replicas, low, Math.max(low, high)),
    keepReplicas: clamp(sizing.keepReplicas, low, Math.max(low, high)),
    forArrivals: clamp(need.forArrivals, low, Math.max(low, high)),
    ...(capped === undefined ? {} : { capped }),
    ...(queue === undefined ? {} : { queue }),
    ...(scheduled === undefined ? {} : { scheduled }),
    ...(forecast === undefined ? {} : { forecast }),
  });
  if (scaling.minReplicas > 0) return { ...within(scaling.minReplicas), code, bypassWindows: false };
  if (currentReplicas === 0) {
    // Scheduled jobs wake the pool a start-up before they come due, not when they are.
    if (observation.waiting === 0 && scheduled === undefined && forecast === undefined)
      return { replicas: 0, keepReplicas: 0, code: SCALE_REASONS.idle, bypassWindows: true };
    return { ...within(1), code: SCALE_REASONS.wakeFromZero, bypassWindows: true };
  }
  if (forecast === undefined && idleToZero(input, idleSinceMs)) {
    return { replicas: 0, keepReplicas: 0, code: SCALE_REASONS.scaleToZero, bypassWindows: true };
  }
  // Until the idle period has passed, keep one replica: a job arriving now starts at once.
  return { ...within(1), code, bypassWindows: false };
}

/**
 * A pool that asks for a down window longer than the default has chosen to hold its replicas
 * (warm caches, costly starts, an HPA configuration carried over): the engine holds it as set.
 */
export function letsGoSooner(scaling: ScalingSpec): boolean {
  return scaling.scaleDown.stabilizationWindowSeconds <= DEFAULT_SCALE_DOWN_WINDOW_SECONDS;
}

/**
 * The replicas a quiet pool still needs, once it has been quiet for QUIET_RELEASE_SECONDS; else
 * undefined. The down window guards against a load that dips and comes back; with nothing
 * waiting and nothing arriving there is no load, and the replicas it holds only idle, so the
 * pool keeps those its running jobs will still fill at the next poll: of `busy` jobs of mean
 * service time S, busy x e^(-poll/S) are expected to run a poll later. Keeping those the jobs
 * fill now stepped down once per poll as the last jobs of a burst finished (10 -> 3 -> 2 -> 1),
 * each step a scale event; a pod let go with a job still running drains it, and is paid for
 * until it has. Only where the format reports the jobs in flight (an empty list cannot tell idle
 * from keeping up) and counts arrivals while the queue is empty.
 */
function quietRelease({
  input,
  reading,
  quietSinceMs,
  serviceSeconds,
}: {
  input: ScaleInput;
  reading: QueueReading;
  quietSinceMs: number | undefined;
  serviceSeconds: number;
}): number | undefined {
  if (!letsGoSooner(input.scaling)) return undefined;
  if (quietSinceMs === undefined || input.nowMs - quietSinceMs < QUIET_RELEASE_SECONDS * 1000) return undefined;
  const runningNextPoll =
    (servingBusy(reading) ?? 0) * Math.exp(-input.scaling.pollIntervalSeconds / Math.max(serviceSeconds, 1e-3));
  return Math.ceil(runningNextPoll / concurrencyPerReplica(reading, input.scaling.concurrency));
}

function idleToZero(input: ScaleInput, idleSinceMs: number | undefined): boolean {
  return (
    input.scaling.minReplicas === 0 &&
    idleSinceMs !== undefined &&
    input.nowMs - idleSinceMs >= input.scaling.scaleToZeroAfterSeconds * 1000
  );
}
