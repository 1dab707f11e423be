import type { DecayedRate } from './types.ts';

// A rate over the recent past kept as two exponentially decayed sums. Decaying both the events
// and the elapsed time by the same factor gives a time-weighted average that forgets at a known
// half-life, needs no list of samples, and serializes as two numbers.

export const EMPTY_RATE: DecayedRate = { events: 0, seconds: 0 };

/**
 * Adds `events` observed over `seconds` after decaying what came before by the wall time that
 * passed (`elapsedSeconds`, the same as `seconds` for a plain rate).
 */
export function addToRate(
  rate: DecayedRate,
  events: number,
  seconds: number,
  halfLifeSeconds: number,
  elapsedSeconds = seconds,
): DecayedRate {
  if (elapsedSeconds <= 0) return rate;
  const keep = Math.pow(0.5, elapsedSeconds / halfLifeSeconds);
  return { events: rate.events * keep + events, seconds: rate.seconds * keep + seconds };
}

/** Events per second, or undefined before anything was observed. */
export function rateOf(rate: DecayedRate): number | undefined {
  return rate.seconds > 0 ? rate.events / rate.seconds : undefined;
}
