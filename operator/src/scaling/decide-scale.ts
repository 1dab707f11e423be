import { capacityCeiling } from './queue-capacity.ts';
import { sizeForQueueTargets } from './queue-targets.ts';
import type { ScalingSpec } from '../api/workerpool-schema.ts';
import type { QueueReading } from '../signals/queue-reading.ts';
import { limitRate, longestPeriodSeconds, rememberScaleEvent } from './rate-limits.ts';
import { decisionCode, explain } from './explain.ts';
import { observationContext, observe, seesArrivalsWhileEmpty, type Observation } from './observe.ts';
import { predict, type ForecastView } from './predict.ts';
import { describeChange, formatNumber } from './reason.ts';
import type { SeasonalModel } from './seasonal-model.ts';
import { letsGoSooner, recommend, type Recommendation, type ScheduledNeed, type SizedNeed } from './recommend.ts';
import {
  arrivalsCountedOverSeconds,
  arrivalsDropping,
  observeReading,
  type ObservedSignals,
} from './signal-estimates.ts';
import { SCALE_DOWN_HEADROOM, sizeReplicas, type Sizing } from './sizing.ts';
import {
  FALLING_DOWN_WINDOW_SECONDS,
  rememberRecommendation,
  spacedScaleDown,
  stabilize as holdWithinWindows,
} from './stabilization.ts';
import {
  SCALE_REASONS,
  type Decision,
  type ScaleInput,
  type ScaleReasonCode,
  type ScalerState,
  type SignalEstimate,
  type TimedReplicas,
} from './types.ts';

// The engine: one pure function from (spec, latest reading, replicas, previous state, clock) to
// (desired replicas, reason, next state). The controller calls it once per poll and per pool;
// the simulator calls the very same function on virtual time.
//
// With a usable reading it runs eight stages, each a function of named values that hands its
// result to the next: observe (the reading into estimates, observe.ts) -> size (the replicas the
// load needs, sizing.ts and queue-targets.ts) -> predict (with scaling.predictive enabled, the
// learned arrival pattern raises the need ahead of a forecast rise, predict.ts) -> recommend
// (within min/max, the queue's capacity and the empty-pool rules, recommend.ts) -> stabilize (the HPA's windows and the engine's
// spacing, stabilization.ts) -> limit (the rate-limit policies, rate-limits.ts) -> bound (what a
// decision never goes below) -> explain (the reason, explain.ts).

/** A reading older than this many poll intervals is stale: the engine treats it as missing. */
export const STALE_AFTER_POLL_INTERVALS = 3;
/** ...but never stale sooner than this, so that a 1 s poll tolerates a slow Redis round trip. */
export const STALE_AFTER_MIN_SECONDS = 10;
/**
 * The down window, in polls, once a burst has ended: its backlog is drained and jobs still
 * arrive, where the pool counts every arrival. The window then holds only what the arrivals
 * asked for over these polls (ADR 0002: 2 polls churned on bursty, 5 or more cost mmpp-short).
 */
export const ENDED_BURST_POLLS = 4;
/** How long a pool must be idle before the engine sizes it for no load at all. */
export const IDLE_POOL_AFTER_SECONDS = 30;

export function decideScale(input: ScaleInput): Decision {
  if (input.pinnedReplicas !== undefined) {
    const pinned = input.pinnedReplicas;
    return manualDecision({
      input,
      desired: pinned,
      reasonCode: SCALE_REASONS.pinned,
      reason: `pinned to ${pinned} by spec.replicas: ${describeChange(input.currentReplicas, pinned)}`,
    });
  }
  if (input.paused === true) {
    return manualDecision({
      input,
      desired: input.currentReplicas,
      reasonCode: SCALE_REASONS.paused,
      reason: `paused: ${describeChange(input.currentReplicas, input.currentReplicas)}`,
    });
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
function manualDecision({
  input,
  desired,
  reasonCode,
  reason,
}: {
  input: ScaleInput;
  desired: number;
  reasonCode: ScaleReasonCode;
  reason: string;
}): Decision {
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
    completionSpan: observed.completionSpan,
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
      state: recordChange({ state, scaling, nowMs, currentReplicas, desiredReplicas: desired }),
    };
  }
  const reason = `signals unavailable for ${formatNumber(failingSeconds)}s: ${describeChange(currentReplicas, hold)}`;
  return {
    desiredReplicas: hold,
    recommendedReplicas: hold,
    reasonCode: SCALE_REASONS.signalsUnavailable,
    reason,
    signals: undefined,
    state: recordChange({ state, scaling, nowMs, currentReplicas, desiredReplicas: hold }),
  };
}

/** The change made, for the rate-limit periods and the start-up and spacing clocks. */
function recordChange({
  state,
  scaling,
  nowMs,
  currentReplicas: current,
  desiredReplicas: desired,
}: {
  state: ScalerState;
  scaling: ScalingSpec;
  nowMs: number;
  currentReplicas: number;
  desiredReplicas: number;
}): ScalerState {
  // Scale-ups are also kept for a start-up, to tell when each starting pod becomes ready.
  const keep = Math.max(longestPeriodSeconds([scaling.scaleUp, scaling.scaleDown]), scaling.podStartupSeconds);
  return {
    ...state,
    scaleEvents: rememberScaleEvent(state.scaleEvents, nowMs, desired - current, keep),
    lastScaleUpAtMs: desired > current ? nowMs : state.lastScaleUpAtMs,
    lastScaleDownAtMs: desired < current ? nowMs : state.lastScaleDownAtMs,
  };
}

/** What every stage after observe works from: the input, the usable reading and what observe made of it. */
interface Observed {
  input: ScaleInput;
  reading: QueueReading;
  observation: Observation;
}

function decideFromSignals(input: ScaleInput, reading: QueueReading): Decision {
  const observation = observe({ input, reading });
  const sized = size({ input, reading, observation });
  const { need, model, forecast } = predict({ input, observation, need: sized });
  const recommendation = recommend({ input, reading, observation, need });
  const windowed = stabilize({ input, reading, observation, recommendation });
  const limited = limit({ input, desiredReplicas: windowed });
  const desired = bound({ recommendation, limited });
  const code = decisionCode({ recommendation, windowed, limited, desired });
  const signals = withForecast(observation.signals, forecast);
  return {
    desiredReplicas: desired,
    recommendedReplicas: recommendation.replicas,
    reasonCode: code,
    reason: explain({
      targetSeconds: input.scaling.targetLatencySeconds,
      signals,
      currentReplicas: input.currentReplicas,
      desiredReplicas: desired,
      recommendation,
      code,
      forecast,
    }),
    signals,
    state: withSeasonal(nextState({ input, observation, recommendation, desired }), model),
  };
}

/** The forecast beside the measured signals, for metrics (shadow and on). */
function withForecast(signals: SignalEstimate, forecast: ForecastView | undefined): SignalEstimate {
  if (forecast === undefined) return signals;
  return forecast.error === undefined
    ? { ...signals, forecastArrivalRatePerSecond: forecast.ratePerSecond }
    : { ...signals, forecastArrivalRatePerSecond: forecast.ratePerSecond, forecastErrorRatio: forecast.error };
}

/** The seasonal model goes with the state while predictive is enabled or shadow, and is dropped when it is disabled. */
function withSeasonal(state: ScalerState, model: SeasonalModel | undefined): ScalerState {
  if (model !== undefined) return { ...state, seasonal: model };
  const { seasonal: _dropped, ...rest } = state;
  return rest;
}

/**
 * The replicas the load needs: the tightest of the pool's and each queue's latency target, plus
 * the draining replicas while there is work, and none once the pool has been idle awhile. Also
 * the queue system's own capacity, which recommend holds the need under.
 */
function size({ input, reading, observation }: Observed): SizedNeed {
  const { sizingInput } = observation;
  const tightest = sizeForQueueTargets(sizingInput, input.scaling.queueTargetLatencySeconds, reading.queues);
  const sized = tightest.sizing;
  // Draining pods (Sidekiq quiet) still count in the Deployment's replicas: keep them on top of
  // what the serving ones must do, while there is work.
  const heldByDraining = Math.min(input.readyReplicas, input.currentReplicas) - observation.servingReplicas;
  const withDraining =
    sized.replicas > 0
      ? { ...sized, replicas: sized.replicas + heldByDraining, keepReplicas: sized.keepReplicas + heldByDraining }
      : sized;
  const sizing = idleAwhile({ sizing: withDraining, idleSinceMs: observation.idleSinceMs, nowMs: input.nowMs });
  return {
    sizing,
    forArrivals:
      sizing.replicas === 0
        ? 0
        : Math.ceil(
            (sizingInput.arrivalRate / sizing.perReplicaJobsPerSecond) * (1 + SCALE_DOWN_HEADROOM) +
              heldByDraining -
              1e-9,
          ),
    queueBound: tightest.bound,
    scheduled: sizing.replicas === 0 ? undefined : scheduledNeed({ observation, sized }),
    ceiling: capacityCeiling(reading.capacity, sizingInput.concurrencyPerReplica, observation.signals),
  };
}

/**
 * The scheduled jobs due within a start-up and a poll, when they ask for more replicas than the
 * rest of the load (the need sized again without them tells): "3,000 jobs due in 40s", from the
 * soonest of them.
 */
function scheduledNeed({ observation, sized }: { observation: Observation; sized: Sizing }): ScheduledNeed | undefined {
  const { sizingInput } = observation;
  const lead = sizingInput.startupSeconds + sizingInput.pollSeconds;
  const batches = (sizingInput.scheduled ?? []).filter((batch) => batch.dueInSeconds <= lead);
  if (batches.length === 0) return undefined;
  if (sized.replicas <= sizeReplicas({ ...sizingInput, scheduled: [] }).replicas) return undefined;
  return {
    jobs: batches.reduce((sum, batch) => sum + batch.jobs, 0),
    withinSeconds: Math.ceil(Math.min(...batches.map((batch) => batch.dueInSeconds))),
  };
}

/**
 * A pool with nothing waiting, nothing running and nothing arriving for IDLE_POOL_AFTER_SECONDS
 * needs no replica, whatever its estimates still remember of the last burst: this is what
 * brings a pool whose format measures little (a plain list) back to its minimum.
 */
function idleAwhile({
  sizing,
  idleSinceMs,
  nowMs,
}: {
  sizing: Sizing;
  idleSinceMs: number | undefined;
  nowMs: number;
}): Sizing {
  if (idleSinceMs === undefined || nowMs - idleSinceMs < IDLE_POOL_AFTER_SECONDS * 1000) return sizing;
  return { ...sizing, replicas: 0, keepReplicas: 0, binding: 'idle' };
}

/**
 * The HPA's stabilization windows over the recommendations of recent polls, then the engine's
 * spacing between scale-downs. Wake-up, scale to zero and a done batch skip both.
 */
function stabilize({
  input,
  reading,
  observation,
  recommendation,
}: Observed & { recommendation: Recommendation }): number {
  if (recommendation.bypassWindows) return recommendation.replicas;
  const { scaling, nowMs, currentReplicas, state } = input;
  const sinceLastScaleDownSeconds =
    state.lastScaleDownAtMs === undefined ? Infinity : (nowMs - state.lastScaleDownAtMs) / 1000;
  const cleared = backlogCleared({ input, reading, observation });
  // A burst is over and a base load goes on (a load gone entirely is the quiet release's).
  const burstEnded = cleared && (observation.observed.arrivedSinceLast ?? 0) > 0;
  const windowed = holdWithinWindows({
    nowMs,
    currentReplicas,
    recommendation: recommendation.replicas,
    keepRecommendation: recommendation.keepReplicas,
    history: cleared ? withoutSurges(state.recommendations) : state.recommendations,
    upWindowSeconds: scaling.scaleUp.stabilizationWindowSeconds,
    downWindowSeconds: downWindowSeconds({ scaling, reading, observed: observation.observed, burstEnded }),
  });
  return spacedScaleDown(currentReplicas, sinceLastScaleDownSeconds, windowed);
}

/**
 * The queue is empty: the backlog that past polls sized a surge for has been drained. Only where
 * the pool counts every arrival (its own completions: Δdepth + Δbusy + Δcompleted), so that what
 * past polls asked for the arrivals alone is measured, not estimated from the queue draining;
 * where the format reports jobs in flight (an empty list may be a pool that falls behind
 * unseen); and where the pool keeps the default down window.
 */
function backlogCleared({ input, reading, observation }: Observed): boolean {
  return (
    observation.countsArrivals &&
    observation.waiting === 0 &&
    seesArrivalsWhileEmpty(reading) &&
    letsGoSooner(input.scaling)
  );
}

/**
 * Past recommendations as the arrival rate alone asked for them: the down window is there for a
 * load that dips and comes back, not to hold replicas added to drain a backlog that is gone.
 */
function withoutSurges(history: TimedReplicas[]): TimedReplicas[] {
  return history.map((past) =>
    past.forArrivals === undefined ? past : { atMs: past.atMs, replicas: Math.min(past.replicas, past.forArrivals) },
  );
}

/**
 * The down window is there for noise: a load that dips and comes back. While the arrival rate
 * has really dropped (arrivalsDropping), holding the highest need of 45 s keeps replicas for a
 * load that is gone, so the window shortens to FALLING_DOWN_WINDOW_SECONDS. Not with depth
 * alone: there an empty queue hides every arrival, and each time it empties the rate seems to
 * drop. Once a burst has ended (its backlog drained, jobs still arriving, arrivals counted), it
 * shortens to ENDED_BURST_POLLS.
 */
function downWindowSeconds({
  scaling,
  reading,
  observed,
  burstEnded,
}: {
  scaling: ScalingSpec;
  reading: QueueReading;
  observed: ObservedSignals;
  burstEnded: boolean;
}): number {
  const configured = scaling.scaleDown.stabilizationWindowSeconds;
  const falling =
    letsGoSooner(scaling) &&
    seesArrivalsWhileEmpty(reading) &&
    arrivalsDropping(observed.arrivalsFast, observed.arrivalsSlow, arrivalsCountedOverSeconds(observed));
  // burstEnded implies the default window or a shorter one (backlogCleared checks letsGoSooner).
  if (burstEnded) return Math.min(configured, ENDED_BURST_POLLS * scaling.pollIntervalSeconds);
  return falling ? Math.min(configured, FALLING_DOWN_WINDOW_SECONDS) : configured;
}

/** The rate-limit policies (scaleUp/scaleDown.policies) over the changes of their periods. */
function limit({ input, desiredReplicas }: { input: ScaleInput; desiredReplicas: number }): number {
  return limitRate({
    nowMs: input.nowMs,
    currentReplicas: input.currentReplicas,
    desiredReplicas,
    events: input.state.scaleEvents,
    scaleUp: input.scaling.scaleUp,
    scaleDown: input.scaling.scaleDown,
  });
}

/** What no window or policy may hold a decision below: waking from zero adds a replica even when a Percent policy allows 0 % of 0. */
function bound({ recommendation, limited }: { recommendation: Recommendation; limited: number }): number {
  return recommendation.code === SCALE_REASONS.wakeFromZero ? Math.max(1, limited) : limited;
}

/** The estimates, the recommendation for the windows, the idle clocks and the change made. */
function nextState({
  input,
  observation,
  recommendation,
  desired,
}: {
  input: ScaleInput;
  observation: Observation;
  recommendation: Recommendation;
  desired: number;
}): ScalerState {
  const { scaling, nowMs } = input;
  const keepSeconds = Math.max(
    scaling.scaleUp.stabilizationWindowSeconds,
    scaling.scaleDown.stabilizationWindowSeconds,
  );
  const state: ScalerState = {
    ...withObserved(input.state, observation.observed),
    recommendations: rememberRecommendation(
      input.state.recommendations,
      recommendation.forArrivals === undefined
        ? { atMs: nowMs, replicas: recommendation.replicas }
        : { atMs: nowMs, replicas: recommendation.replicas, forArrivals: recommendation.forArrivals },
      keepSeconds,
    ),
    idleSinceMs: observation.idleSinceMs,
    quietSinceMs: observation.quietSinceMs,
    unmeasuredSinceMs: observation.unmeasuredSinceMs,
  };
  return recordChange({ state, scaling, nowMs, currentReplicas: input.currentReplicas, desiredReplicas: desired });
}
