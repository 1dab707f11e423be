import type { Backoff } from '../protocol/job-record.ts';

/** No retry waits longer than an hour, however many attempts a job is given. */
export const MAX_BACKOFF_MS = 60 * 60 * 1000;

/**
 * Delay before retry number `retry` (1 = the first retry). Exponential backoff doubles from the base
 * delay, and is jittered into [50 %, 100 %] of that, so jobs that failed together (an outage) do not
 * all come back at the same instant; the lower bound keeps the spacing predictable.
 */
export function backoffDelayMs(backoff: Backoff, retry: number, random: () => number = Math.random): number {
  if (backoff.delayMs === 0) return 0;
  if (backoff.type === 'fixed') return Math.min(backoff.delayMs, MAX_BACKOFF_MS);
  const exponent = Math.max(0, retry - 1);
  const base = Math.min(backoff.delayMs * 2 ** exponent, MAX_BACKOFF_MS);
  return Math.round(base * (0.5 + random() * 0.5));
}
