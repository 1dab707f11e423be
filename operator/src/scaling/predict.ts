import type { PredictiveMode } from '../api/workerpool-schema.ts';
import type { Observation } from './observe.ts';
import type { SizedNeed } from './recommend.ts';
import {
  emptySeasonalModel,
  forecastError,
  forecastMinute,
  forecastPeak,
  learnArrivals,
  type SeasonalModel,
} from './seasonal-model.ts';
import { SCALE_DOWN_HEADROOM, sizeReplicas } from './sizing.ts';
import type { ScaleInput } from './types.ts';

// The engine's predict stage (scaling.predictive, ADR 0003), between size and recommend: the
// arrivals of this poll are learned into the pool's seasonal model, and, with `enabled`, a forecast
// rise within a start-up and a poll is sized by the same queue model as the reactive need and
// raises it — never lowers it. `shadow` learns and reports the forecast, and never acts.

/**
 * The model acts only while its recent forecast error (mean |forecast - actual| over mean
 * actual, per minute, over about three hours) is within this bound: a pool without a pattern
 * forecasts its mean, misses every burst and every lull by far more, and so never acts.
 */
export const FORECAST_ERROR_BOUND = 0.35;
/** ...and once it has learned for a whole day: every day bucket has been seen once. */
export const FORECAST_MIN_LEARNED_SECONDS = 86_400;

/** What the forecast said at this poll, for metrics and lastScaleReason. */
export interface ForecastView {
  /** The highest rate forecast within a start-up and a poll (jobs per second). */
  ratePerSecond: number;
  /** Seconds until the minute of that rate begins. */
  inSeconds: number;
  /** The recent forecast error (see FORECAST_ERROR_BOUND), when it has been scored. */
  error: number | undefined;
  /** The forecast raised the replicas above the reactive need. */
  acted: boolean;
}

export interface Prediction {
  need: SizedNeed;
  model: SeasonalModel | undefined;
  forecast: ForecastView | undefined;
}

export function predict({
  input,
  observation,
  need,
}: {
  input: ScaleInput;
  observation: Observation;
  need: SizedNeed;
}): Prediction {
  const mode: PredictiveMode = input.scaling.predictive;
  if (mode === 'disabled') return { need, model: undefined, forecast: undefined };
  const model = learn(input, observation);
  const { scaling, nowMs } = input;
  const lead = scaling.podStartupSeconds + scaling.pollIntervalSeconds;
  const peak = forecastPeak(model, nowMs, nowMs + lead * 1000);
  if (peak === undefined) return { need, model, forecast: undefined };
  const error = forecastError(model);
  const view: ForecastView = { ...peak, error, acted: false };
  if (mode !== 'enabled' || !trusted(model, nowMs, error)) return { need, model, forecast: view };
  const raised = raiseForForecast(observation, need, {
    ratePerSecond: expectedRate(observation, peak.ratePerSecond, forecastMinute(model, Math.floor(nowMs / 60_000))),
    inSeconds: peak.inSeconds,
  });
  return raised === undefined
    ? { need, model, forecast: view }
    : { need: raised, model, forecast: { ...view, acted: true } };
}

/** This poll's arrivals into the model: those the observe stage counted since the last reading. */
function learn(input: ScaleInput, observation: Observation): SeasonalModel {
  const model = input.state.seasonal ?? emptySeasonalModel();
  const previous = input.state.lastSample;
  const arrived = observation.observed.arrivedSinceLast;
  if (previous === undefined || arrived === undefined) return model;
  const seconds = (observation.observed.lastSample.atMs - previous.atMs) / 1000;
  return seconds > 0 ? learnArrivals(model, input.nowMs, arrived, seconds) : model;
}

/**
 * The rate to size for: the measured rate times the rise the pattern forecasts from this minute
 * to the peak. A day runs above or below the days the model learned (a quiet Monday), and sizing
 * for the learned level would hold replicas for load that is not there; the shape of the day —
 * a campaign at 09:00 ten times the minute before — recurs. Without a forecast for this minute
 * (or one of nothing), the forecast itself.
 */
function expectedRate(observation: Observation, peak: number, now: number | undefined): number {
  if (now === undefined || now <= 0) return peak;
  return observation.sizingInput.arrivalRate * (peak / now);
}

function trusted(model: SeasonalModel, nowMs: number, error: number | undefined): boolean {
  if (model.sinceMs === undefined || nowMs - model.sinceMs < FORECAST_MIN_LEARNED_SECONDS * 1000) return false;
  return error !== undefined && error <= FORECAST_ERROR_BOUND;
}

/**
 * The reactive need sized again with the forecast rate as the arrival rate (the deadlines and
 * the steady floor alike), when that asks for more. The rate lands `inSeconds` from now, and
 * pods asked for now are Ready a start-up later: only the part of the start-up that is left
 * when it lands delays them, so a rise forecast a start-up ahead is sized as if they were
 * Ready — the replicas its rate needs, not a surge to catch up a backlog that will not build.
 * Undefined when the forecast asks for no more.
 */
function raiseForForecast(
  observation: Observation,
  need: SizedNeed,
  peak: { ratePerSecond: number; inSeconds: number },
): SizedNeed | undefined {
  const { sizingInput } = observation;
  const forecastRate = peak.ratePerSecond;
  if (forecastRate <= sizingInput.arrivalRate && need.sizing.binding !== 'idle') return undefined;
  const sized = sizeReplicas({
    ...sizingInput,
    startupSeconds: Math.max(0, sizingInput.startupSeconds - peak.inSeconds),
    arrivalRate: Math.max(sizingInput.arrivalRate, forecastRate),
    sustainedArrivalRate: Math.max(sizingInput.sustainedArrivalRate, forecastRate),
  });
  if (sized.replicas <= need.sizing.replicas) return undefined;
  const forArrivals = Math.ceil((forecastRate / sized.perReplicaJobsPerSecond) * (1 + SCALE_DOWN_HEADROOM) - 1e-9);
  return {
    ...need,
    sizing: { ...sized, keepReplicas: Math.max(sized.keepReplicas, need.sizing.keepReplicas) },
    forArrivals: Math.max(need.forArrivals, forArrivals),
    forecast: { ratePerSecond: forecastRate },
  };
}
