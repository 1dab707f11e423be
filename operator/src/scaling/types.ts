import type { QueueFormat, ScalingSpec } from '../api/workerpool-schema.ts';
import type { QueueReading } from '../signals/queue-reading.ts';
import type { SeasonalModel } from './seasonal-model.ts';

// The engine's contract with its callers (the controller every poll, the simulator on virtual
// time). Everything here is plain data so that the state survives JSON.stringify/parse and a
// decision can be replayed from a recorded input.

/** What the engine needs to decide one pool's size at one moment. */
export interface ScaleInput {
  /** The injected clock: epoch milliseconds of this decision. */
  nowMs: number;
  /** The pool's spec.scaling, with defaults applied. */
  scaling: ScalingSpec;
  /** spec.queue.format: which signals the reading can carry (its signal profile). */
  format: QueueFormat;
  /** spec.replicas: a manual pin that turns autoscaling off while set. */
  pinnedReplicas?: number | undefined;
  /** spec.paused: keep the replicas as they are. */
  paused?: boolean | undefined;
  /** Replicas the Deployment is asked to run now (its spec.replicas). */
  currentReplicas: number;
  /** Replicas that are ready and taking jobs. */
  readyReplicas: number;
  /** This poll's reading, or undefined when the read failed. */
  reading: QueueReading | undefined;
  /** The state returned by the previous decision for this pool (initialScalerState() at first). */
  state: ScalerState;
}

/**
 * Where the service time came from, for lastScaleReason: the run time the workers recorded
 * (Sidekiq 7+), the pool's completion counter, the queue head advancing (the oldest age and
 * depth of two readings), the backlog shrinking (depth alone, a lower bound on throughput), or —
 * before any of those — assumed from how long work has been running without one (see
 * assumedServiceSeconds).
 */
export const SERVICE_ESTIMATES = ['recorded run time', 'completions', 'queue drain', 'depth drain', 'assumed'] as const;
export type ServiceEstimate = (typeof SERVICE_ESTIMATES)[number];

/** The last reading the engine accepted, kept to turn counters into rates. */
export interface SampleMemo {
  atMs: number;
  depth: number;
  busy: number | undefined;
  /** The pool's own completions; undefined when the format counts none or only a shared total. */
  completedTotal: number | undefined;
  /** The counter moves in lumps this far apart (a heartbeat): it measures service time only. */
  completedGranularitySeconds?: number;
  /**
   * Jobs that succeeded and the seconds they ran, as the workers recorded them, where they do and
   * the counter is the pool's (QueueReading.recordedRunTime).
   */
  recordedRunTime?: { jobs: number; seconds: number };
  /** Processes that beat (Sidekiq's), where the counter is lumpy: one that stops adds its count. */
  processes?: number;
  /**
   * Seconds since each process last beat, summed over the processes, where every one says when
   * (WorkerHeartbeat.beatAtMs): what busy and the counter have not seen yet is their jobs started
   * over these process-seconds.
   */
  beatAgeSeconds?: number;
  /** Each process's seconds since its last beat, whose sum beatAgeSeconds is (beatsAboutToLand). */
  secondsSinceBeats?: readonly number[];
  oldestAgeSeconds: number | undefined;
  /** The scheduled jobs the reading counted ahead, to tell next poll which of them came due. */
  upcoming?: { horizonsSeconds: readonly number[]; dueWithin: readonly number[] };
}

/**
 * A span over which a lumpy completion counter (completedGranularitySeconds) is read: it is
 * folded into the service time only once it covers a heartbeat, with the busy job-seconds seen
 * over the same span.
 */
export interface CompletionSpan {
  fromMs: number;
  completedTotal: number;
  busySeconds: number;
  /** Depth and busy where the span began, to count its arrivals (Δdepth + Δbusy + Δcompleted). */
  depth: number;
  busy: number;
  /** Scheduled jobs that came due within the span: known work, not arrivals. */
  cameDue: number;
  /**
   * The span that closed where this one began ended with no job waiting: the arrivals it counted
   * are the load alone, not a backlog draining.
   */
  afterSpanWithoutBacklog?: boolean;
  /** Busy job-seconds, each weighted by the seconds into the span it ran (unflushedCompletions). */
  busyMoment?: number;
  /** The most processes seen beating over the span. */
  processes?: number;
  /** Completions the counter was expected to be behind by where the span began. */
  unflushed?: number;
  /** The samples' beatAgeSeconds where the span began (SampleMemo.beatAgeSeconds). */
  beatAgeSeconds?: number;
  /** Process-seconds the span has covered so far (processes × seconds, poll by poll). */
  processSeconds?: number;
  /**
   * Jobs the span before counted short (a negative count: scheduled jobs came due there whose
   * completions the counter showed only later), taken off this span's arrivals.
   */
  owed?: number;
}

/**
 * Sums that decay exponentially with time, so that a rate is "recent" without keeping a list of
 * samples: rate = events / seconds, both decayed alike.
 */
export interface DecayedRate {
  events: number;
  seconds: number;
}

export interface TimedReplicas {
  atMs: number;
  replicas: number;
  /**
   * What the arrival rate alone asked for at that poll, without a backlog to drain: once the
   * queue is empty, the down window holds this rather than a surge sized for a backlog that is
   * gone. Absent in states kept before it was recorded.
   */
  forArrivals?: number;
}

export interface ScaleEvent {
  atMs: number;
  /** Replicas added (positive) or removed (negative). */
  change: number;
}

/** The engine's memory between polls. Serializable: numbers, arrays and plain objects only. */
export interface ScalerState {
  lastSample: SampleMemo | undefined;
  /** Arrivals per second, recent (short half-life): what new pods must absorb. */
  arrivalsFast: DecayedRate;
  /** Arrivals per second, slower: its gap to the fast rate is the trend. */
  arrivalsSlow: DecayedRate;
  /** Busy job-seconds over completions: the mean service time, by Little's law. */
  service: DecayedRate;
  /** Which estimate the service time came from last (see SERVICE_ESTIMATES). */
  serviceEstimate: ServiceEstimate | undefined;
  /** The open span of a lumpy completion counter; absent where the counter is exact or missing. */
  completionSpan?: CompletionSpan;
  /** Recommendations of recent polls, for the stabilization windows. */
  recommendations: TimedReplicas[];
  /** Changes the engine made, for the rate-limit policies. */
  scaleEvents: ScaleEvent[];
  /** When the engine last added replicas: those not ready yet are expected a start-up delay later. */
  lastScaleUpAtMs: number | undefined;
  /** When the engine last removed replicas: the next removal waits SCALE_DOWN_SPACING_SECONDS. */
  lastScaleDownAtMs: number | undefined;
  /** Since when there has been work while the service time was not measured yet. */
  unmeasuredSinceMs: number | undefined;
  /** Since when the queue has been empty and no job has run (scale to zero). */
  idleSinceMs: number | undefined;
  /** Since when nothing has waited and nothing has arrived (jobs may still run): the load is gone. */
  quietSinceMs: number | undefined;
  /** Since when readings have been missing or stale. */
  failingSinceMs: number | undefined;
  /** The learned arrival pattern (scaling.predictive shadow or enabled); absent while it is disabled. */
  seasonal?: SeasonalModel;
}

/** Why the engine chose what it chose: exported so that events and metrics use one vocabulary. */
export const SCALE_REASONS = {
  pinned: 'Pinned',
  paused: 'Paused',
  signalsUnavailable: 'SignalsUnavailable',
  fallback: 'Fallback',
  wakeFromZero: 'WakeFromZero',
  scaleToZero: 'ScaleToZero',
  latency: 'Latency',
  backlog: 'Backlog',
  arrivalRate: 'ArrivalRate',
  idle: 'Idle',
  stabilized: 'Stabilized',
  rateLimited: 'RateLimited',
  /** A queue's own latency target (spec.scaling.queueTargetLatencySeconds) needs more replicas than the pool's. */
  queueLatency: 'QueueLatency',
  /** The queue system's own global concurrency or rate limit caps the replicas worth running. */
  queueCapacity: 'QueueCapacity',
  /** Scheduled jobs (schedule/retry, delayed) come due within a pod start-up: pods ready when they do. */
  scheduled: 'Scheduled',
  /** The learned arrival pattern (scaling.predictive: enabled) forecasts a rise: pods Ready when it lands. */
  forecast: 'Forecast',
} as const;
export type ScaleReasonCode = (typeof SCALE_REASONS)[keyof typeof SCALE_REASONS];

/** The signals the decision was based on, for status and metrics. */
export interface SignalEstimate {
  arrivalRatePerSecond: number;
  /** Arrival rate the engine sizes for: the recent rate plus the rising trend over the lead time. */
  plannedArrivalRatePerSecond: number;
  /** The slower, sustained rate (with the same trend) the steady-state floor follows. */
  sustainedArrivalRatePerSecond: number;
  serviceTimeSeconds: number;
  /** What the service time was estimated from. */
  serviceEstimate: ServiceEstimate;
  /** Jobs one replica completes per second at full use (concurrency / service time). */
  perReplicaJobsPerSecond: number;
  depth: number;
  oldestJobAgeSeconds: number | undefined;
  /** The queue system is paused: its waiting jobs are not sized for. */
  queuePaused: boolean;
  /** scaling.predictive shadow or enabled: the highest arrival rate forecast within a start-up and a poll. */
  forecastArrivalRatePerSecond?: number;
  /** ...and the model's recent forecast error (mean |forecast - actual| / mean actual, per minute). */
  forecastErrorRatio?: number;
}

export interface Decision {
  desiredReplicas: number;
  /** What the sizing asked for before windows and rate limits. */
  recommendedReplicas: number;
  reasonCode: ScaleReasonCode;
  /** One line for status.lastScaleReason and Events, e.g. "oldest job 45s > target 30s, ...: 3 -> 8". */
  reason: string;
  signals: SignalEstimate | undefined;
  state: ScalerState;
}

export function initialScalerState(): ScalerState {
  return {
    lastSample: undefined,
    arrivalsFast: { events: 0, seconds: 0 },
    arrivalsSlow: { events: 0, seconds: 0 },
    service: { events: 0, seconds: 0 },
    serviceEstimate: undefined,
    recommendations: [],
    scaleEvents: [],
    lastScaleUpAtMs: undefined,
    lastScaleDownAtMs: undefined,
    unmeasuredSinceMs: undefined,
    idleSinceMs: undefined,
    quietSinceMs: undefined,
    failingSinceMs: undefined,
  };
}
