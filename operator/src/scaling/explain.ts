import { describeQueueBound } from './queue-targets.ts';
import type { ForecastView } from './predict.ts';
import { describeChange, describeSignals, formatNumber } from './reason.ts';
import type { Recommendation } from './recommend.ts';
import { SCALE_REASONS, type ScaleReasonCode, type SignalEstimate } from './types.ts';

// The engine's last stage: one line for status.lastScaleReason and Events that names the signals
// behind the decision and, when a window or a limit held the recommendation back, says which.

export function explain({
  targetSeconds,
  signals,
  currentReplicas,
  desiredReplicas,
  recommendation,
  code,
  forecast,
}: {
  targetSeconds: number;
  signals: SignalEstimate;
  currentReplicas: number;
  desiredReplicas: number;
  recommendation: Recommendation;
  code: ScaleReasonCode;
  forecast?: ForecastView | undefined;
}): string {
  const change = describeChange(currentReplicas, desiredReplicas);
  const recommended = recommendation.replicas;
  const tier = recommendation.queue === undefined ? '' : `${describeQueueBound(recommendation.queue)}; `;
  const scheduled =
    recommendation.scheduled === undefined
      ? ''
      : `${recommendation.scheduled.jobs.toLocaleString('en-US')} jobs due in ${recommendation.scheduled.withinSeconds}s; `;
  const forecastPart =
    recommendation.forecast === undefined || forecast === undefined ? '' : `${describeForecast(forecast)}; `;
  const base = `${scheduled}${forecastPart}${tier}${describeSignals(signals, targetSeconds)}: ${change}`;
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

/** "forecast 80 jobs/s in 40s (learned pattern, error 12%)": the forecast that raised the need. */
export function describeForecast(forecast: ForecastView): string {
  const when = forecast.inSeconds <= 0 ? 'now' : `in ${Math.round(forecast.inSeconds)}s`;
  const error = forecast.error === undefined ? '' : `, error ${Math.round(forecast.error * 100)}%`;
  return `forecast ${formatNumber(forecast.ratePerSecond)} jobs/s ${when} (learned pattern${error})`;
}

/**
 * The reason code of the decision: the recommendation's own, unless a stabilization window or a
 * rate-limit policy kept the replicas from it.
 */
export function decisionCode({
  recommendation,
  windowed,
  limited,
  desired,
}: {
  recommendation: Recommendation;
  windowed: number;
  limited: number;
  desired: number;
}): ScaleReasonCode {
  if (desired === recommendation.replicas) return recommendation.code;
  if (windowed !== recommendation.replicas) return SCALE_REASONS.stabilized;
  return limited !== windowed ? SCALE_REASONS.rateLimited : recommendation.code;
}
