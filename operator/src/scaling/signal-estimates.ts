import type { QueueReading } from '../signals/queue-reading.ts';
import { addToRate, rateOf } from './decayed-rate.ts';
import type { DecayedRate, SampleMemo, ScalerState } from './types.ts';

// Turns successive readings into the three quantities the sizing needs: how fast jobs arrive,
// how long one job runs, and so how many jobs a replica completes per second. Everything is
// derived from counters every format can provide (depth, busy, completedTotal), never from a
// guessed per-pod queue length.

/** Arrivals react within a few polls: a burst must be sized before its backlog ages. */
export const ARRIVALS_FAST_HALF_LIFE_SECONDS = 6;
/** The slow arrival rate is the baseline the trend is measured against. */
export const ARRIVALS_SLOW_HALF_LIFE_SECONDS = 45;
/** Service time changes slowly; a long memory keeps heavy-tailed jobs from jolting it. */
export const SERVICE_HALF_LIFE_SECONDS = 120;
/** How far ahead a rising arrival rate is extrapolated, at most, in multiples of the lead time. */
export const TREND_HORIZON_CAP_SECONDS = 120;

export interface ObservedSignals {
  arrivalsFast: DecayedRate;
  arrivalsSlow: DecayedRate;
  service: DecayedRate;
  /** Jobs that arrived since the previous sample, when the format counts completions. */
  arrivedSinceLast: number | undefined;
  lastSample: SampleMemo;
}

/**
 * Jobs that arrived between two samples: every arrival is still waiting, running, or done, so
 * arrivals = Δdepth + Δbusy + Δcompleted. Undefined when a counter is missing or was reset.
 */
export function arrivalsBetween(previous: SampleMemo, current: SampleMemo): number | undefined {
  if (previous.completedTotal === undefined || current.completedTotal === undefined) return undefined;
  const completed = current.completedTotal - previous.completedTotal;
  if (completed < 0) return undefined;
  const busyChange = (current.busy ?? 0) - (previous.busy ?? 0);
  return Math.max(0, current.depth - previous.depth + busyChange + completed);
}

export function memoOf(reading: QueueReading): SampleMemo {
  return { atMs: reading.observedAtMs, depth: reading.depth, busy: reading.busy, completedTotal: reading.completedTotal };
}

/** Folds one reading into the decayed rates of the state. */
export function observeReading(state: ScalerState, reading: QueueReading): ObservedSignals {
  const current = memoOf(reading);
  const previous = state.lastSample;
  if (previous === undefined || current.atMs <= previous.atMs) {
    return { arrivalsFast: state.arrivalsFast, arrivalsSlow: state.arrivalsSlow, service: state.service, arrivedSinceLast: undefined, lastSample: current };
  }
  const seconds = (current.atMs - previous.atMs) / 1000;
  const arrived = arrivalsBetween(previous, current);
  const completed = current.completedTotal !== undefined && previous.completedTotal !== undefined ? current.completedTotal - previous.completedTotal : undefined;
  const arrivalsFast = arrived === undefined ? state.arrivalsFast : addToRate(state.arrivalsFast, arrived, seconds, ARRIVALS_FAST_HALF_LIFE_SECONDS);
  const arrivalsSlow = arrived === undefined ? state.arrivalsSlow : addToRate(state.arrivalsSlow, arrived, seconds, ARRIVALS_SLOW_HALF_LIFE_SECONDS);
  return { arrivalsFast, arrivalsSlow, service: observeService(state.service, previous, current, completed, seconds), arrivedSinceLast: arrived, lastSample: current };
}

/**
 * Little's law on the jobs in service: mean busy = throughput × service time, so the service
 * time is busy job-seconds over completions. Kept as decayed sums (events = completions,
 * seconds = busy job-seconds). Intervals with nothing running carry no information.
 */
function observeService(service: DecayedRate, previous: SampleMemo, current: SampleMemo, completed: number | undefined, seconds: number): DecayedRate {
  if (completed === undefined || completed < 0 || previous.busy === undefined || current.busy === undefined) return service;
  const busySeconds = ((previous.busy + current.busy) / 2) * seconds;
  if (busySeconds <= 0 && completed === 0) return service;
  return addToRate(service, completed, busySeconds, SERVICE_HALF_LIFE_SECONDS, seconds);
}

/** Mean seconds one job runs, or undefined until a completion was seen. */
export function serviceTimeSeconds(service: DecayedRate): number | undefined {
  if (service.events < 0.5) return undefined;
  const perJob = service.seconds / service.events;
  return perJob > 0 ? perJob : undefined;
}

/** How many standard deviations below the slow rate the fast one must fall to count as a real drop. */
export const RATE_DROP_SIGMAS = 2;

/**
 * The slow rate, unless the fast one has clearly dropped below it: Poisson noise on an
 * exponentially weighted rate has a relative deviation of 1 / sqrt(2 λ τ), τ its mean age.
 * Noise must not shrink the pool (each shrink and regrowth pays a drain and a start-up), but
 * after a burst the pool should not wait for the slow average to forget it.
 */
export function sustainedRate(fast: number, slow: number): number {
  if (fast >= slow) return slow;
  const meanAge = ARRIVALS_FAST_HALF_LIFE_SECONDS / Math.LN2;
  const relativeNoise = 1 / Math.sqrt(Math.max(1, 2 * slow * meanAge));
  return fast < slow * (1 - RATE_DROP_SIGMAS * relativeNoise) ? fast : slow;
}

/**
 * The arrival rates to plan for: the recent one (for deadlines) and the sustained one (for the
 * steady floor, which then changes less often), each plus, when arrivals are rising, the rise
 * extrapolated over the time new capacity needs to arrive. A falling rate is not extrapolated:
 * under-sizing costs the SLO, over-sizing only costs until the next poll.
 */
export function plannedArrivalRate(fast: DecayedRate, slow: DecayedRate, leadSeconds: number): { current: number; planned: number; sustained: number } {
  const current = rateOf(fast) ?? 0;
  const baseline = rateOf(slow) ?? current;
  // The fast and slow averages lag the truth by about their mean ages (half-life / ln 2).
  const lagGap = (ARRIVALS_SLOW_HALF_LIFE_SECONDS - ARRIVALS_FAST_HALF_LIFE_SECONDS) / Math.LN2;
  const slope = Math.max(0, (current - baseline) / lagGap);
  const horizon = Math.min(TREND_HORIZON_CAP_SECONDS, leadSeconds + ARRIVALS_FAST_HALF_LIFE_SECONDS / Math.LN2);
  const rise = slope * horizon;
  return { current, planned: current + rise, sustained: sustainedRate(current, baseline) + rise };
}
